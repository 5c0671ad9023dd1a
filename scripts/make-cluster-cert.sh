#!/usr/bin/env bash
# Makes the certificates of a new cluster (PROTOCOL.md section 11) with openssl:
#   OUT/ca.key, OUT/ca.crt   the cluster's CA (keep ca.key offline; it signs every node certificate)
#   OUT/cluster.p12          the node certificate, its key and the CA certificate, as one PKCS#12 file
#                            for --tls-cert; every node of the cluster uses it
#   OUT/cluster.password     the PKCS#12 password, for --tls-cert-password-file
# Usage: scripts/make-cluster-cert.sh OUT [DAYS]
#   OUT existing with ca.key/ca.crt: only a new cluster.p12 is signed by that CA (rotation, see
#   docs/operations.md "Rotating the cluster certificate"). DAYS: node certificate life (default 365).
#   TRUST_ALSO=FILE: a PEM file of another CA certificate the nodes also accept (the old or the new CA
#   while the CA itself is rotated); it goes into cluster.p12 next to OUT's own CA.
set -euo pipefail
out=${1:?usage: make-cluster-cert.sh OUT [DAYS]}
days=${2:-365}
mkdir -p "$out"
cd "$out"
umask 077
if [[ ! -f ca.key || ! -f ca.crt ]]; then
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout ca.key -out ca.crt \
    -days 3650 -subj "/CN=akkavoice cluster CA $(date -u +%Y%m%d%H%M%S)-$(openssl rand -hex 4)" \
    -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" 2>/dev/null
fi
openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout node.key -out node.csr -subj "/CN=akkavoice node" 2>/dev/null
cat > node.ext <<'X'
basicConstraints=critical,CA:FALSE
keyUsage=critical,digitalSignature,keyAgreement
extendedKeyUsage=serverAuth,clientAuth
X
openssl x509 -req -in node.csr -CA ca.crt -CAkey ca.key -CAcreateserial -out node.crt -days "$days" -extfile node.ext 2>/dev/null
[[ -f cluster.password ]] || openssl rand -hex 24 > cluster.password
cat ca.crt ${TRUST_ALSO:+"$TRUST_ALSO"} > trust.pem
openssl pkcs12 -export -inkey node.key -in node.crt -certfile trust.pem -name "akkavoice node" \
  -passout "file:cluster.password" -out cluster.p12
rm -f node.csr node.ext node.key node.crt ca.srl trust.pem
echo "$out/cluster.p12 (password in $out/cluster.password), signed by $(openssl x509 -in ca.crt -noout -subject)," \
  "valid until $(openssl pkcs12 -in cluster.p12 -passin file:cluster.password -nokeys -clcerts 2>/dev/null | openssl x509 -noout -enddate | cut -d= -f2)"
