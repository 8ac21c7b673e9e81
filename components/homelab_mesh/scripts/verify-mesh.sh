#!/usr/bin/env bash
# Post-deploy check: every running workload pod of each meshed namespace is on HBONE (enrolled in
# ambient) and the ingress Gateway is Programmed with an address. Retries until TIMEOUT_SECONDS.
# Uses `istioctl ztunnel-config workloads` when istioctl is installed, else the ambient redirection
# annotation istio-cni puts on enrolled pods.
# Runs on bash 3.2 (macOS) as well as bash 5: POSIX sh constructs only, plus `local`.
set -uf
# uses: lib/kube.sh
timeout_seconds="${TIMEOUT_SECONDS:-300}"
interval_seconds="${INTERVAL_SECONDS:-10}"
namespaces="${NAMESPACES:-}"
# Gateway and waypoint pods are deliberately outside ztunnel's capture; so are opted-out pods.
workload_selector='!gateway.istio.io/managed,istio.io/dataplane-mode!=none'

if ! command -v kubectl >/dev/null 2>&1; then
  echo "mesh verification: kubectl is not on PATH; it is needed to check the mesh (or set verifyMesh: false)" >&2
  exit 127
fi
errors=$(mktemp) || exit 1
trap 'rm -f "$errors"; kube_cleanup' EXIT
trap 'exit 1' HUP INT TERM

istio() {
  if [ -n "${KUBE_CONTEXT:-}" ]; then
    istioctl --context "$KUBE_CONTEXT" "$@" </dev/null
  else
    istioctl "$@" </dev/null
  fi
}

problems=""
problem() {
  problems="${problems}  - $1
"
}

# The pods of namespace $1 that ztunnel carries on HBONE, space-separated.
hbone_pods() {
  local output
  if command -v istioctl >/dev/null 2>&1; then
    output=$(istio ztunnel-config workloads 2>"$errors") || return 1
    printf '%s\n' "$output" | awk -v ns="$1" 'NR > 1 && $1 == ns && $NF == "HBONE" { printf "%s ", $2 }'
  else
    output=$(kube get pods -n "$1" \
      -o jsonpath='{range .items[*]}{.metadata.name}{" "}{.metadata.annotations.ambient\.istio\.io/redirection}{"\n"}{end}' \
      2>"$errors") || return 1
    printf '%s\n' "$output" | awk '$2 == "enabled" { printf "%s ", $1 }'
  fi
}

check_namespace() {
  local namespace running hbone pod missing
  namespace=$1
  if ! running=$(kube get pods -n "$namespace" -l "$workload_selector" --field-selector=status.phase=Running \
    -o jsonpath='{range .items[*]}{.metadata.name}{"\n"}{end}' 2>"$errors"); then
    problem "namespace $namespace: cannot list pods: $(cat "$errors")"
    return
  fi
  if ! hbone=$(hbone_pods "$namespace"); then
    problem "namespace $namespace: cannot read the HBONE workloads: $(cat "$errors")"
    return
  fi
  missing=""
  for pod in $(printf '%s\n' "$running" | sort); do
    case " $hbone " in
      *" $pod "*) ;;
      *) missing="$missing$pod " ;;
    esac
  done
  if [ -n "$missing" ]; then
    problem "namespace $namespace: pods not on HBONE: $missing"
  fi
}

address=""
check_gateway() {
  local state programmed
  state=$(kube get gateways.gateway.networking.k8s.io "$GATEWAY_NAME" -n "$GATEWAY_NAMESPACE" \
    -o jsonpath='{.status.conditions[?(@.type=="Programmed")].status} {.status.addresses[0].value}' 2>/dev/null)
  programmed=${state%% *}
  case "$state" in
    *" "*) address=${state#* } ;;
    *) address="" ;;
  esac
  if [ "$programmed" != "True" ] || [ -z "$address" ]; then
    problem "gateway $GATEWAY_NAMESPACE/$GATEWAY_NAME: Programmed=${programmed:-unknown}, address=${address:-none}"
  fi
}

deadline=$(($(date +%s) + timeout_seconds))
while :; do
  problems=""
  for namespace in $namespaces; do
    check_namespace "$namespace"
  done
  if [ -n "${GATEWAY_NAME:-}" ]; then
    check_gateway
  fi
  if [ -z "$problems" ]; then
    echo "mesh verified: namespaces [${namespaces}] on HBONE${GATEWAY_NAME:+, gateway $GATEWAY_NAMESPACE/$GATEWAY_NAME programmed at $address}"
    exit 0
  fi
  if [ "$(date +%s)" -ge "$deadline" ]; then
    printf 'mesh verification failed after %ss:\n%s' "$timeout_seconds" "$problems" >&2
    cat >&2 <<'HELP'
What to look at:
  1. the namespace label: kubectl get namespace <ns> -o jsonpath='{.metadata.labels}'
  2. ztunnel's logs: kubectl logs -n istio-system -l app=ztunnel --tail=50
  3. NetworkPolicies in the namespace must allow HBONE (TCP 15008) and egress to istio-system
  4. istio-cni adds running pods live (no restart needed); on the pods' nodes: kubectl logs -n istio-system -l k8s-app=istio-cni-node --tail=50
  5. a Gateway without an address: kubectl -n metallb-system logs deploy/metallb-controller, and the address pools
HELP
    exit 1
  fi
  sleep "$interval_seconds"
done
