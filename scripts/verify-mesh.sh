#!/usr/bin/env bash
# Post-deploy check: every running workload pod of each meshed namespace is on HBONE (enrolled in
# ambient) and the ingress Gateway is Programmed with an address. Retries until TIMEOUT_SECONDS.
# Uses `istioctl ztunnel-config workloads` when istioctl is installed, else the ambient redirection
# annotation istio-cni puts on enrolled pods.
set -uo pipefail
timeout_seconds="${TIMEOUT_SECONDS:-300}"
interval_seconds="${INTERVAL_SECONDS:-10}"
namespaces="${NAMESPACES:-}"
context=()
if [ -n "${KUBE_CONTEXT:-}" ]; then context=(--context "$KUBE_CONTEXT"); fi
# Gateway and waypoint pods are deliberately outside ztunnel's capture; so are opted-out pods.
workload_selector='!gateway.istio.io/managed,istio.io/dataplane-mode!=none'

running_pods() {
  kubectl "${context[@]}" get pods -n "$1" -l "$workload_selector" --field-selector=status.phase=Running \
    -o jsonpath='{range .items[*]}{.metadata.name}{"\n"}{end}' | sort
}

hbone_pods() {
  if command -v istioctl >/dev/null 2>&1; then
    istioctl "${context[@]}" ztunnel-config workloads | awk -v ns="$1" 'NR > 1 && $1 == ns && $NF == "HBONE" { print $2 }' | sort
  else
    kubectl "${context[@]}" get pods -n "$1" \
      -o jsonpath='{range .items[*]}{.metadata.name}{" "}{.metadata.annotations.ambient\.istio\.io/redirection}{"\n"}{end}' |
      awk '$2 == "enabled" { print $1 }' | sort
  fi
}

gateway_state() {
  kubectl "${context[@]}" get gateways.gateway.networking.k8s.io "$GATEWAY_NAME" -n "$GATEWAY_NAMESPACE" \
    -o jsonpath='{.status.conditions[?(@.type=="Programmed")].status} {.status.addresses[0].value}' 2>/dev/null
}

deadline=$((SECONDS + timeout_seconds))
while :; do
  problems=()
  for namespace in $namespaces; do
    not_enrolled=$(comm -23 <(running_pods "$namespace") <(hbone_pods "$namespace") | tr '\n' ' ')
    if [ -n "$not_enrolled" ]; then
      problems+=("namespace $namespace: pods not on HBONE: $not_enrolled")
    fi
  done
  if [ -n "${GATEWAY_NAME:-}" ]; then
    read -r programmed address <<<"$(gateway_state)"
    if [ "${programmed:-}" != "True" ] || [ -z "${address:-}" ]; then
      problems+=("gateway $GATEWAY_NAMESPACE/$GATEWAY_NAME: Programmed=${programmed:-unknown}, address=${address:-none}")
    fi
  fi
  if [ "${#problems[@]}" -eq 0 ]; then
    echo "mesh verified: namespaces [${namespaces}] on HBONE${GATEWAY_NAME:+, gateway $GATEWAY_NAMESPACE/$GATEWAY_NAME programmed at $address}"
    exit 0
  fi
  if [ "$SECONDS" -ge "$deadline" ]; then
    printf 'mesh verification failed after %ss:\n' "$timeout_seconds" >&2
    printf '  - %s\n' "${problems[@]}" >&2
    cat >&2 <<'HELP'
What to look at:
  1. the namespace label: kubectl get namespace <ns> -o jsonpath='{.metadata.labels}'
  2. ztunnel's logs: kubectl logs -n istio-system -l app=ztunnel --tail=50
  3. NetworkPolicies in the namespace must allow HBONE (TCP 15008) and egress to istio-system
  4. pods started before the namespace joined the mesh need a restart: kubectl rollout restart deployment -n <ns>
  5. a Gateway without an address: kubectl -n metallb-system logs deploy/metallb-controller, and the address pools
HELP
    exit 1
  fi
  sleep "$interval_seconds"
done
