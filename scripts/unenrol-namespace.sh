#!/usr/bin/env bash
# Takes NAMESPACE out of the ambient mesh: drop its mesh labels, then restart its workloads so that no
# pod keeps the in-pod traffic redirection it was started with (istio/istio#49067).
set -euo pipefail
: "${NAMESPACE:?NAMESPACE is required}"
context=()
if [ -n "${KUBE_CONTEXT:-}" ]; then context=(--context "$KUBE_CONTEXT"); fi

if ! kubectl "${context[@]}" get namespace "$NAMESPACE" >/dev/null 2>&1; then
  echo "namespace $NAMESPACE no longer exists: nothing to un-enrol"
  exit 0
fi
kubectl "${context[@]}" label namespace "$NAMESPACE" istio.io/dataplane-mode- istio.io/use-waypoint-
for kind in deployment statefulset daemonset; do
  if [ -n "$(kubectl "${context[@]}" get "$kind" -n "$NAMESPACE" -o name)" ]; then
    kubectl "${context[@]}" rollout restart "$kind" -n "$NAMESPACE"
  fi
done
echo "namespace $NAMESPACE left the mesh; its workloads are restarting without redirection"
