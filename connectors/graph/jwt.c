/* jwt — signed client assertions (OpenSSL).  See jwt.h. */
#include "connectors/graph/jwt.h"

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "connectors/base64.h"
#include "schema/buf.h"

char *jwt_b64url(const void *p, size_t n)
{
  char *s = malloc(base64_encoded_len(n) + 1);
  size_t k = 0;
  if (!s)
    return NULL;
  base64_encode(p, n, s);
  s[base64_encoded_len(n)] = '\0';
  for (size_t i = 0; s[i] && s[i] != '='; i++)
    s[k++] = s[i] == '+' ? '-' : s[i] == '/' ? '_' : s[i];
  s[k] = '\0';
  return s;
}

static char *fail(char **err, const char *what)
{
  unsigned long e = ERR_get_error();
  char detail[256] = "";
  if (e)
    ERR_error_string_n(e, detail, sizeof detail);
  ERR_clear_error();
  if (asprintf(err, "%s%s%s", what, detail[0] ? ": " : "", detail) < 0)
    *err = NULL;
  return NULL;
}

/* An encrypted key is refused: without a callback OpenSSL would prompt on the terminal. */
static int no_password(char *pass, int size, int rwflag, void *u)
{
  (void)pass, (void)size, (void)rwflag, (void)u;
  return -1;
}

/* The certificate's DER digest (SHA-256 or SHA-1) as base64url. */
static char *thumbprint(X509 *cert, const EVP_MD *md)
{
  unsigned char d[EVP_MAX_MD_SIZE];
  unsigned int n = 0;
  if (X509_digest(cert, md, d, &n) != 1)
    return NULL;
  return jwt_b64url(d, n);
}

char *jwt_assertion(jwt_alg alg, const char *cert_pem_path, const char *key_pem,
                    const char *client_id, const char *aud, time_t now, long lifetime, char **err)
{
  FILE *f = NULL;
  X509 *cert = NULL;
  BIO *kb = NULL;
  EVP_PKEY *key = NULL;
  EVP_MD_CTX *md = NULL;
  EVP_PKEY_CTX *pctx = NULL;
  char *x5t256 = NULL, *x5t1 = NULL, *h64 = NULL, *c64 = NULL, *s64 = NULL, *out = NULL;
  unsigned char rnd[16], *sig = NULL;
  char jti[37];
  size_t sig_len = 0;
  buf hdr, claims, input;

  buf_init(&hdr, 0);
  buf_init(&claims, 0);
  buf_init(&input, 0);
  if (!(f = fopen(cert_pem_path, "r"))) {
    if (asprintf(err, "certificate-file %s: cannot open", cert_pem_path) < 0)
      *err = NULL;
    goto out;
  }
  if (!(cert = PEM_read_X509(f, NULL, no_password, NULL))) {
    fail(err, "certificate-file: not a PEM certificate");
    goto out;
  }
  if (!(kb = BIO_new_mem_buf(key_pem, -1)) ||
      !(key = PEM_read_bio_PrivateKey(kb, NULL, no_password, NULL))) {
    fail(err, "private-key: not an unencrypted PEM private key");
    goto out;
  }
  if (EVP_PKEY_get_base_id(key) != EVP_PKEY_RSA) {
    fail(err, "private-key: an RSA key is needed for RS256 / PS256");
    goto out;
  }
  if (X509_check_private_key(cert, key) != 1) {
    fail(err, "private-key does not belong to the certificate in certificate-file");
    goto out;
  }
  if (RAND_bytes(rnd, sizeof rnd) != 1) {
    fail(err, "no random bytes for the assertion id");
    goto out;
  }
  rnd[6] = (unsigned char)((rnd[6] & 0x0f) | 0x40); /* a version 4 GUID */
  rnd[8] = (unsigned char)((rnd[8] & 0x3f) | 0x80);
  snprintf(jti, sizeof jti, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x",
           rnd[0], rnd[1], rnd[2], rnd[3], rnd[4], rnd[5], rnd[6], rnd[7], rnd[8], rnd[9], rnd[10],
           rnd[11], rnd[12], rnd[13], rnd[14], rnd[15]);
  if (!(x5t256 = thumbprint(cert, EVP_sha256())) ||
      (alg == JWT_RS256 && !(x5t1 = thumbprint(cert, EVP_sha1())))) {
    fail(err, "cannot hash the certificate");
    goto out;
  }
  /* The client id and token URL come from settings: JSON-safe characters only. */
  if (strpbrk(client_id, "\"\\") || strpbrk(aud, "\"\\")) {
    if (asprintf(err, "client-id or token URL holds a quote or backslash") < 0)
      *err = NULL;
    goto out;
  }
  if (buf_printf(&hdr, "{\"alg\":\"%s\",\"typ\":\"JWT\",\"x5t#S256\":\"%s\"",
                 alg == JWT_PS256 ? "PS256" : "RS256", x5t256) != BUF_OK ||
      (x5t1 && buf_printf(&hdr, ",\"x5t\":\"%s\"", x5t1) != BUF_OK) ||
      buf_addc(&hdr, '}') != BUF_OK ||
      buf_printf(&claims,
                 "{\"aud\":\"%s\",\"iss\":\"%s\",\"sub\":\"%s\",\"jti\":\"%s\",\"nbf\":%lld,"
                 "\"iat\":%lld,\"exp\":%lld}",
                 aud, client_id, client_id, jti, (long long)now, (long long)now,
                 (long long)(now + lifetime)) != BUF_OK ||
      !(h64 = jwt_b64url(hdr.p, hdr.len)) || !(c64 = jwt_b64url(claims.p, claims.len)) ||
      buf_printf(&input, "%s.%s", h64, c64) != BUF_OK) {
    fail(err, "out of memory");
    goto out;
  }
  if (!(md = EVP_MD_CTX_new()) || EVP_DigestSignInit(md, &pctx, EVP_sha256(), NULL, key) != 1 ||
      (alg == JWT_PS256 && (EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING) != 1 ||
                            EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, RSA_PSS_SALTLEN_DIGEST) != 1)) ||
      EVP_DigestSign(md, NULL, &sig_len, (const unsigned char *)input.p, input.len) != 1 ||
      !(sig = malloc(sig_len)) ||
      EVP_DigestSign(md, sig, &sig_len, (const unsigned char *)input.p, input.len) != 1 ||
      !(s64 = jwt_b64url(sig, sig_len))) {
    fail(err, "cannot sign the client assertion");
    goto out;
  }
  if (asprintf(&out, "%s.%s", input.p, s64) < 0)
    out = NULL;
out:
  if (f)
    fclose(f);
  X509_free(cert);
  BIO_free(kb);
  EVP_PKEY_free(key);
  EVP_MD_CTX_free(md);
  free(x5t256);
  free(x5t1);
  free(h64);
  free(c64);
  free(s64);
  free(sig);
  buf_free(&hdr);
  buf_free(&claims);
  buf_free(&input);
  return out;
}
