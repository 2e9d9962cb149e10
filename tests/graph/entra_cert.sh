#!/bin/bash
# entra_cert — certificate credentials: the connector signs a client assertion (PS256 by
# default, RS256 with x5t on request) with the private key given as file:PATH (0600), the peer
# verifies it with openssl against the registered certificate; a key that is not the
# certificate's, or an encrypted key (never a passphrase prompt), is refused before anything
# is sent; no secret appears in any output.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
. "$root/tests/graph/peer.sh"
. "$root/tests/graph/conn_lib.sh"

conn_setup "$1"
cd "$WORK"
openssl req -x509 -newkey rsa:2048 -nodes -keyout app.key -out app.pem -days 2 \
  -subj "/CN=mvsync-test-app" 2>/dev/null
openssl req -x509 -newkey rsa:2048 -nodes -keyout other.key -out other.pem -days 2 \
  -subj "/CN=other" 2>/dev/null
chmod 600 app.key other.key
pem=$(python3 -c 'import json,sys; print(json.dumps({"pem": open(sys.argv[1]).read()}))' app.pem)
peer_ctl POST /_fake/certificates "$pem" >/dev/null
peer_ctl POST /_fake/seed '{"users": [{"displayName": "A"}], "groups": [{"displayName": "G", "mailNickname": "g"}]}' >/dev/null

cert_rules() {
  write_rules "$1"
  # Certificate credentials instead of the secret.
  sed -i '/client-secret/d' "$WORK/rules/entra.rules"
}

for alg in PS256 RS256; do
  echo "== $alg assertion"
  cert_rules "  certificate-file \"$WORK/app.pem\"
  private-key file:$WORK/app.key
  assertion-alg \"$alg\""
  log_mark
  out=$(mvs import entra --full 2>&1)
  echo "$out"
  check "len(cs) == 2" "imported with a $alg client assertion"
  check "[e.get('token_auth') for e in log if e['origin'] == 'login'] == ['assertion:$alg']" "the peer verified a $alg assertion"
  if grep -q -F -- "$(sed -n 2p app.key)" <<<"$out"; then echo "FAILED: key material in the output"; exit 1; fi
done

echo "== a private key that is not the certificate's"
cert_rules "  certificate-file \"$WORK/app.pem\"
  private-key file:$WORK/other.key"
log_mark
if out=$(mvs import entra --full 2>&1); then echo "FAILED: import succeeded"; exit 1; fi
echo "$out" | grep -q 'private-key does not belong to the certificate' || { echo "FAILED: $out"; exit 1; }
check "not any(e['origin'] == 'login' for e in log)" "refused before anything was sent"

echo "== an encrypted private key: refused (no passphrase prompt), nothing sent"
openssl pkey -in app.key -aes256 -passout pass:not-asked -out enc.key
chmod 600 enc.key
cert_rules "  certificate-file \"$WORK/app.pem\"
  private-key file:$WORK/enc.key"
log_mark
if out=$(timeout 30 "$MVSYNC_BIN" import entra --full 2>&1 </dev/null); then echo "FAILED: import succeeded"; exit 1; fi
echo "$out" | grep -q 'private-key: not an unencrypted PEM private key' || { echo "FAILED: $out"; exit 1; }
check "not any(e['origin'] == 'login' for e in log)" "refused before anything was sent"

echo "== a certificate the app does not have: the token endpoint's AADSTS error"
cert_rules "  certificate-file \"$WORK/other.pem\"
  private-key file:$WORK/other.key"
if out=$(mvs import entra --full 2>&1); then echo "FAILED: import succeeded"; exit 1; fi
echo "$out" | grep -q 'HTTP 401 invalid_client: AADSTS700027' || { echo "FAILED: $out"; exit 1; }
echo "ok: $(echo "$out" | grep -o 'HTTP 401 invalid_client: AADSTS700027[^.]*')"
echo "PASS"
