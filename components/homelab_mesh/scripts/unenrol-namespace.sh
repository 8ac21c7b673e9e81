#!/usr/bin/env bash
# Takes NAMESPACE out of the ambient mesh: drop its mesh labels, then wait until istio-cni has taken every
# running pod out. Nothing is restarted: on every supported Istio minor (1.28 to 1.31) istio-cni's node agent
# re-queues all pods of a namespace whose istio.io/dataplane-mode label changes and removes their in-pod
# redirection live (istio@1.28.0 and istio@release-1.31: cni/pkg/nodeagent/informers.go, reconcileNamespace ->
# enqueueNamespace, reconcilePod -> RemovePodFromMesh), then drops the pod's ambient.istio.io/redirection
# annotation (cni/pkg/util/podutil.go, AnnotateUnenrollPod). istio/istio#49067 is about the opposite order:
# uninstalling istio-cni while pods are still enrolled leaves their rules behind (closed with the advice to
# un-label first; istio/istio.io#16002 asks to document it), which is why this runs before ztunnel and
# istio-cni are removed, and waits: they go right after it on `pulumi destroy`.
# Only a namespace that is gone counts as done. Any other failure to read it (API unreachable, unknown
# context, forbidden) fails the delete, so that `pulumi destroy` stops before ztunnel is removed from
# under a namespace that is still labelled ambient.
# WAIT_SECONDS (optional, default 120): how long istio-cni gets to take the pods out.
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

# Running pods istio-cni still redirects carry ambient.istio.io/redirection=enabled; poll every 2 s until none
# does (a pod that finished was taken out when it ended).
REDIRECTION='{range .items[*]}{.metadata.name}={.metadata.annotations.ambient\.istio\.io/redirection}{"\n"}{end}'
polls_left=$((${WAIT_SECONDS:-120} / 2 + 1))
while :; do
  if ! pods=$(kube get pods -n "$NAMESPACE" --field-selector=status.phase=Running -o "jsonpath=$REDIRECTION"); then
    fail "cannot list pods"
  fi
  redirected=$(printf '%s\n' "$pods" | sed -n 's/=enabled$//p' | tr '\n' ' ')
  [ -n "$redirected" ] || break
  polls_left=$((polls_left - 1))
  if [ "$polls_left" -le 0 ]; then
    echo "un-enrol $NAMESPACE: istio-cni has not taken these pods out of the mesh after ${WAIT_SECONDS:-120}s:" \
      "$redirected; see 'kubectl -n istio-system logs ds/istio-cni-node'. Nothing after this step was done" >&2
    exit 1
  fi
  sleep 2
done
echo "namespace $NAMESPACE left the mesh; its pods keep running, no longer redirected"
