#!/usr/bin/env bash
# Takes NAMESPACE out of the ambient mesh: drop its mesh labels, then restart its workloads so that no
# pod keeps the in-pod traffic redirection it was started with (istio/istio#49067).
# Only a namespace that is gone counts as done. Any other failure to read it (API unreachable, unknown
# context, forbidden) fails the delete, so that `pulumi destroy` stops before ztunnel is removed from
# under a namespace that is still labelled ambient.
# Runs on bash 3.2 (macOS) as well as bash 5: POSIX sh constructs only, plus `local`.
set -u
# uses: lib/kube.sh
: "${NAMESPACE:?NAMESPACE is required}"

if ! command -v kubectl >/dev/null 2>&1; then
  echo "un-enrol $NAMESPACE: kubectl is not on PATH; it is needed to take the namespace out of the mesh" >&2
  exit 127
fi

fail() {
  echo "un-enrol $NAMESPACE: $1 (kubectl's error is above); nothing after this step was done" >&2
  exit 1
}

# --ignore-not-found: a missing namespace prints nothing and succeeds; every other error still fails.
if ! found=$(kube get namespace "$NAMESPACE" --ignore-not-found -o name); then
  fail "cannot read the namespace"
fi
if [ -z "$found" ]; then
  echo "namespace $NAMESPACE no longer exists: nothing to un-enrol"
  exit 0
fi

kube label namespace "$NAMESPACE" istio.io/dataplane-mode- istio.io/use-waypoint- || fail "cannot remove the mesh labels"
for kind in deployment statefulset daemonset; do
  if ! workloads=$(kube get "$kind" -n "$NAMESPACE" -o name); then
    fail "cannot list ${kind}s"
  fi
  if [ -n "$workloads" ]; then
    kube rollout restart "$kind" -n "$NAMESPACE" || fail "cannot restart ${kind}s"
  fi
done
echo "namespace $NAMESPACE left the mesh; its workloads are restarting without redirection"
