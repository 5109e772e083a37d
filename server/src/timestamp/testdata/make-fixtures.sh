#!/bin/sh
# Regenerates the interop fixtures with the OpenSSL CLI acting as a real TSA
# (`openssl ts -reply`). Only needed by hand; the tests read the committed outputs.
# Digest stamped: SHA-256("abc") = ba7816bf...15ad.
set -eu
cd "$(dirname "$0")"
work=$(mktemp -d); trap 'rm -rf "$work"' EXIT
printf abc > "$work/abc.txt"

mk_tsa() { # name keygen-args
  name=$1; shift
  openssl genpkey "$@" -out "$work/$name.key" 2>/dev/null
  openssl req -new -x509 -key "$work/$name.key" -subj "/CN=Test TSA $name" -days 3650 \
    -addext "extendedKeyUsage=critical,timeStamping" -out "$work/$name.crt"
  openssl pkey -in "$work/$name.key" -pubout -outform DER -out "$name.spki.der"
}
mk_tsa rsa -algorithm RSA -pkeyopt rsa_keygen_bits:2048
mk_tsa ec  -algorithm EC  -pkeyopt ec_paramgen_curve:P-256
openssl rsa -in "$work/rsa.key" -RSAPublicKey_out -outform DER -out rsa.pub.der 2>/dev/null

openssl ts -query -data "$work/abc.txt" -sha256 -out query.tsq   # with a random nonce
for name in rsa ec; do for digits in 0 3; do
  cat > "$work/tsa.cnf" <<CNF
[ tsa ]
default_tsa = t
[ t ]
serial = $work/serial
signer_cert = $work/$name.crt
signer_key = $work/$name.key
signer_digest = sha256
default_policy = 1.2.3.4.1
digests = sha256
accuracy = secs:1
clock_precision_digits = $digits
ess_cert_id_alg = sha256
CNF
  echo 2a > "$work/serial"
  openssl ts -reply -config "$work/tsa.cnf" -queryfile query.tsq -out "openssl-$name-$digits.tsr" 2>/dev/null
  # Cross-check with OpenSSL's own verifier.
  openssl ts -verify -in "openssl-$name-$digits.tsr" -queryfile query.tsq -CAfile "$work/$name.crt" -untrusted "$work/$name.crt" >/dev/null
done; done
# The nonce OpenSSL put in the query, for the tests to compare with.
openssl ts -query -in query.tsq -text | sed -n 's/^Nonce: *//p' > nonce.txt
