#!/usr/bin/env bash
# Hands gatewayAddress over from the Service that holds it (the classic istio-ingressgateway) to the stack's
# Gateway: once the Gateway is Programmed at its own (second) address, the holding Service is deleted; the
# program changes the Gateway's address right after this script (the Gateway waits for it). MetalLB's
# controller reprocesses every Service when one with an address is deleted (metallb v0.16.1 controller/main.go,
# SetBalancer), and the speaker then sends gratuitous ARP for the address every 1.1 s for 5 s
# (internal/layer2/announcer.go), so clients follow within seconds. Read docs/adoption.md.
#
# SERVICE            <namespace>/<name> of the Service holding the address
# ADDRESS            the address to hand over
# GATEWAY_NAME, GATEWAY_NAMESPACE   the stack's Gateway
# Runs on bash 3.2 (macOS) as well as bash 5 and dash: POSIX sh constructs only, plus `local`.
set -u
# uses: lib/kube.sh
: "${SERVICE:?SERVICE is required}"
: "${ADDRESS:?ADDRESS is required}"
: "${GATEWAY_NAME:?GATEWAY_NAME is required}"
: "${GATEWAY_NAMESPACE:?GATEWAY_NAMESPACE is required}"
namespace=${SERVICE%%/*}
name=${SERVICE#*/}

if ! command -v kubectl >/dev/null 2>&1; then
  echo "address hand-over: kubectl is not on PATH; it is needed to hand $ADDRESS over" >&2
  exit 127
fi

fail() {
  echo "address hand-over refused: $1" >&2
  exit 1
}

if ! state=$(kube -n "$GATEWAY_NAMESPACE" get gateways.gateway.networking.k8s.io "$GATEWAY_NAME" --ignore-not-found \
  -o 'jsonpath={.status.conditions[?(@.type=="Programmed")].status} {.status.addresses[0].value}'); then
  fail "cannot read the Gateway $GATEWAY_NAMESPACE/$GATEWAY_NAME (kubectl's error is above); nothing was changed"
fi
programmed=${state%% *}
current=""
case "$state" in *" "*) current=${state#* } ;; esac
if [ "$programmed" != True ] || [ -z "$current" ]; then
  fail "the Gateway $GATEWAY_NAMESPACE/$GATEWAY_NAME does not answer yet (Programmed=${programmed:-absent}). Deploy it on a free address of the pool first (gatewayAddress), let the front-door check pass there, then hand $ADDRESS over"
fi

if ! found=$(kube -n "$namespace" get service "$name" --ignore-not-found -o name); then
  fail "cannot read the Service $SERVICE (kubectl's error is above); nothing was changed"
fi
if [ -z "$found" ]; then
  echo "the Service $SERVICE no longer exists: $ADDRESS is free for the Gateway"
  exit 0
fi
kube -n "$namespace" delete service "$name" || fail "cannot delete the Service $SERVICE (kubectl's error is above)"
context=""
if [ -n "${KUBE_CONTEXT:-}" ]; then
  context=" --context $KUBE_CONTEXT"
fi
cat <<DONE
deleted the Service $SERVICE: $ADDRESS moves to the Gateway $GATEWAY_NAMESPACE/$GATEWAY_NAME (answering at $current until then).
What routed through it is now unused; remove it once the front-door check passes at $ADDRESS:
  kubectl$context -n $namespace get deployment,horizontalpodautoscaler,poddisruptionbudget,serviceaccount -l app=$name
  kubectl$context -n $namespace delete deployment,horizontalpodautoscaler,poddisruptionbudget,serviceaccount -l app=$name
  kubectl$context get gateways.networking.istio.io,virtualservices.networking.istio.io -A
  kubectl$context -n <namespace> delete gateways.networking.istio.io <name>   # each classic Gateway (selector istio: ingressgateway)
DONE
