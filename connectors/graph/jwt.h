/* jwt — the signed client assertion of OAuth2 client-credentials with a certificate (RFC 7523,
 * as Microsoft identity platform takes it): RS256 or PS256 over the private key, the
 * certificate's thumbprint in the header.  Memory: the assertion and *err are malloc'd. */
#ifndef MVS_GRAPH_JWT_H
#define MVS_GRAPH_JWT_H

#include <time.h>

typedef enum jwt_alg { JWT_PS256 = 0, JWT_RS256 } jwt_alg;

/* Build an assertion for client_id to present at aud (the token URL), valid from now for
 * lifetime seconds.  cert_pem: the certificate (its SHA-256 thumbprint goes into "x5t#S256",
 * and for RS256 the SHA-1 one into "x5t"); key_pem: the PEM private key text.
 * Returns the compact JWS, or NULL with *err. */
char *jwt_assertion(jwt_alg alg, const char *cert_pem_path, const char *key_pem,
                    const char *client_id, const char *aud, time_t now, long lifetime, char **err);

/* base64url without padding of n bytes; malloc'd, NULL when out of memory. */
char *jwt_b64url(const void *p, size_t n);

#endif
