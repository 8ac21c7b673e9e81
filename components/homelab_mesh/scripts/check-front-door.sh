#!/usr/bin/env bash
# Front-door check after `pulumi up`. For each gateway hostname, connect to the Gateway's address with
# the name pinned to it (curl --resolve, so no DNS or hosts file is involved) and check that
#   1. plain HTTP answers 301 with Location https://<hostname>/...
#   2. HTTPS presents a certificate valid for <hostname>, trusting only the stack's CA when
#      CA_CERTIFICATE_PEM is given (tlsMode: private-ca); in tlsMode existing, exactly the certificate in the
#      hostname's own TLS Secret (PINNED_CERTIFICATES), the one clients were served before; else the system's
#      trust store;
#   3. each route rule whose backend Service exists answers its path without a 5xx.
# Retries until TIMEOUT_SECONDS, because the gateway's proxy may still be starting; then fails naming
# the hostname and what was seen.
#
# GATEWAY_ADDRESS  the Gateway's address (IPv4 or IPv6)
# HOSTNAMES        space-separated gateway hostnames
# ROUTE_RULES      one rule a line: <hostname> <namespace> <service> <path>
# PINNED_CERTIFICATES  one a line: <hostname> <namespace>/<TLS Secret>; curl then trusts only that Secret's
#                  tls.crt: curl with OpenSSL or a fork of it (LibreSSL, BoringSSL) accepts a trusted
#                  certificate that is not a root, "partial" chains, by default (libcurl's CURLOPT_SSL_OPTIONS,
#                  CURLSSLOPT_NO_PARTIALCHAIN, 7.68.0); a curl built on another TLS library may refuse it
# HTTP_PORT, HTTPS_PORT (80, 443), TIMEOUT_SECONDS (300), INTERVAL_SECONDS (10), REQUEST_TIMEOUT_SECONDS (10)
# Runs on bash 3.2 (macOS) as well as bash 5: POSIX sh constructs only, plus `local`.
set -uf
# uses: lib/kube.sh
: "${HOSTNAMES:?HOSTNAMES is required}"
address="${GATEWAY_ADDRESS:-}"
rules="${ROUTE_RULES:-}"
http_port="${HTTP_PORT:-80}"
https_port="${HTTPS_PORT:-443}"
timeout_seconds="${TIMEOUT_SECONDS:-300}"
interval_seconds="${INTERVAL_SECONDS:-10}"
request_timeout="${REQUEST_TIMEOUT_SECONDS:-10}"

require() {
  if ! command -v "$1" >/dev/null 2>&1; then
    echo "front-door check: $1 is not on PATH; it is needed $2" >&2
    exit 127
  fi
}
require curl "to connect to the gateway"
if [ -n "$rules" ] || [ -n "${PINNED_CERTIFICATES:-}" ]; then
  require kubectl "to look up the routes' backend Services"
fi
if [ -z "$address" ]; then
  echo "front-door check: the Gateway has no address (GATEWAY_ADDRESS is empty); look at its status and MetalLB's pools" >&2
  exit 1
fi

work=$(mktemp -d) || exit 1
trap 'rm -rf "$work"; kube_cleanup' EXIT
trap 'exit 1' HUP INT TERM
errors="$work/errors"
ca_file=""
if [ -n "${CA_CERTIFICATE_PEM:-}" ]; then
  ca_file="$work/ca.pem"
  printf '%s\n' "$CA_CERTIFICATE_PEM" >"$ca_file"
fi

# The certificates a hostname's clients were served before: its Secret's tls.crt, read once.
pins="${PINNED_CERTIFICATES:-}"
count=0
pinned_files=""
while read -r pin_host pin_secret; do
  [ -n "$pin_host" ] || continue
  count=$((count + 1))
  if ! encoded=$(kube -n "${pin_secret%%/*}" get secret "${pin_secret#*/}" -o 'jsonpath={.data.tls\.crt}'); then
    echo "front-door check: cannot read the TLS Secret $pin_secret of $pin_host (kubectl's error is above)" >&2
    exit 1
  fi
  if [ -z "$encoded" ] || ! printf '%s' "$encoded" | base64 --decode >"$work/pinned-$count.pem" 2>"$errors"; then
    echo "front-door check: the TLS Secret $pin_secret of $pin_host holds no certificate (tls.crt)" >&2
    exit 1
  fi
  pinned_files="$pinned_files$pin_host $work/pinned-$count.pem
"
done <<PINS
$pins
PINS

# trust_for <hostname>: the file curl trusts for it, or nothing for the system's trust store.
trust_for() {
  local host file
  while read -r host file; do
    if [ "$host" = "$1" ]; then
      echo "$file"
      return
    fi
  done <<FILES
$pinned_files
FILES
  echo "$ca_file"
}

case "$address" in
  *:*) pinned="[$address]" ;;
  *) pinned="$address" ;;
esac

# fetch <scheme> <hostname> <port> <path> <curl -w format>: one request to the pinned address.
fetch() {
  local url trusted
  url="$1://$2"
  case "$1:$3" in
    http:80 | https:443) ;;
    *) url="$url:$3" ;;
  esac
  trusted=""
  if [ "$1" = https ]; then
    trusted=$(trust_for "$2")
  fi
  if [ -n "$trusted" ]; then
    set -- --cacert "$trusted" --resolve "$2:$3:$pinned" -w "$5" "$url$4"
  else
    set -- --resolve "$2:$3:$pinned" -w "$5" "$url$4"
  fi
  # --disable first: a ~/.curlrc (say, with --insecure) must not change what is checked.
  curl --disable --silent --show-error --globoff --noproxy '*' --max-time "$request_timeout" -o /dev/null "$@" \
    </dev/null 2>"$errors"
}

curl_error() {
  tr '\n' ' ' <"$errors"
}

problems=""
problem() {
  problems="${problems}  - $1
"
}

# Rules whose backend Service exists, as "<hostname> <path>" lines; the others are noted once, here.
checked=""
while read -r host namespace service path; do
  [ -n "$host" ] || continue
  if ! found=$(kube get service -n "$namespace" "$service" --ignore-not-found -o name); then
    echo "front-door check: cannot look up Service $namespace/$service for https://$host$path (kubectl's error is above)" >&2
    exit 1
  fi
  if [ -z "$found" ]; then
    echo "note: https://$host$path not checked: its backend Service $namespace/$service does not exist"
    continue
  fi
  checked="$checked$host $path
"
done <<RULES
$rules
RULES

check_redirect() {
  local host seen status location
  host=$1
  if ! seen=$(fetch http "$host" "$http_port" / '%{http_code} %{redirect_url}'); then
    problem "$host: plain HTTP to $pinned:$http_port failed: $(curl_error)"
    return
  fi
  status=${seen%% *}
  location=${seen#* }
  if [ "$status" != 301 ]; then
    problem "$host: plain HTTP answered $status (Location: ${location:-none}), expected 301 to https://$host/"
    return
  fi
  case "$location" in
    "https://$host/"* | "https://$host:$https_port/"*) ;;
    *) problem "$host: plain HTTP redirects to ${location:-nowhere}, expected https://$host/" ;;
  esac
}

check_tls() {
  local status what
  fetch https "$1" "$https_port" / '%{http_code}' >/dev/null && return 0
  status=$?
  # curl's exit codes for TLS failures: the certificate is not valid for the name, not trusted, or the
  # handshake itself failed.
  case "$status" in
    35 | 51 | 53 | 54 | 58 | 59 | 60 | 64 | 66 | 77 | 80 | 82 | 83 | 90 | 91) what="TLS handshake failed" ;;
    28) what="timed out" ;;
    *) what="no connection" ;;
  esac
  problem "$1: HTTPS to $pinned:$https_port: $what: $(curl_error)"
  return 1
}

check_rules() {
  local host rule_host path status
  host=$1
  while read -r rule_host path; do
    [ "$rule_host" = "$host" ] || continue
    if ! status=$(fetch https "$host" "$https_port" "$path" '%{http_code}'); then
      problem "https://$host$path failed: $(curl_error)"
      continue
    fi
    case "$status" in
      5*) problem "https://$host$path answered $status" ;;
    esac
  done <<CHECKED
$checked
CHECKED
}

for host in $HOSTNAMES; do
  case "$host" in
    "*"*) echo "note: $host not checked: a wildcard hostname names no host to connect to" ;;
  esac
done

deadline=$(($(date +%s) + timeout_seconds))
while :; do
  problems=""
  verified=""
  for host in $HOSTNAMES; do
    case "$host" in
      "*"*) continue ;;
    esac
    check_redirect "$host"
    if check_tls "$host"; then
      check_rules "$host"
    fi
    verified="$verified $host"
  done
  if [ -z "$problems" ]; then
    echo "front door verified at $address:${verified}: HTTP redirects to HTTPS, certificates valid, routes answer"
    exit 0
  fi
  if [ "$(date +%s)" -ge "$deadline" ]; then
    printf 'front-door check failed after %ss at %s:\n%s' "$timeout_seconds" "$address" "$problems" >&2
    cat >&2 <<'HELP'
What to look at:
  1. the Gateway's listeners and address: kubectl get gateway -n istio-gateway ingress -o yaml
  2. the gateway proxy's logs: kubectl logs -n istio-gateway -l gateway.networking.k8s.io/gateway-name=ingress
  3. a certificate problem: the TLS Secrets in istio-gateway, and the CA you trust (pulumi stack output caCertificatePem)
  4. a 5xx: the route's backend Service and pods, and the namespace's AuthorizationPolicy
HELP
    exit 1
  fi
  sleep "$interval_seconds"
done
