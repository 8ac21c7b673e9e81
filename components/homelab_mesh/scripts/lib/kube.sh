# Put in front of each script that calls kubectl (components/scripts.py): kubectl in the stack's context.
# `kube` closes stdin, so that kubectl never reads the input of a loop around it; `kube_with_stdin` passes
# the script's stdin on (a manifest piped to `apply -f -`).
#
# The cluster is the Kubernetes provider's (components/cluster.py): KUBE_CONTEXT is its context, and
# KUBECONFIG_DATA, when set, the stack's kubernetes:kubeconfig, read the way the provider reads it: a path
# (a leading ~/ is the home directory) when such a file exists, else the kubeconfig's content, written to a
# file only this user can read and removed when the script exits. Without it, kubectl and istioctl read
# $KUBECONFIG or ~/.kube/config, as the provider does.
kube_cleanup() {
  if [ -n "${KUBE_CONFIG_FILE:-}" ]; then
    rm -f "$KUBE_CONFIG_FILE"
  fi
}

if [ -n "${KUBECONFIG_DATA:-}" ]; then
  case "$KUBECONFIG_DATA" in
    "~/"*) kube_config_path="$HOME/${KUBECONFIG_DATA#"~/"}" ;;
    *) kube_config_path=$KUBECONFIG_DATA ;;
  esac
  if [ -f "$kube_config_path" ]; then
    KUBECONFIG=$kube_config_path
  else
    KUBE_CONFIG_FILE=$(umask 077 && mktemp) || {
      echo "cannot write the stack's kubernetes:kubeconfig to a temporary file" >&2
      exit 1
    }
    trap kube_cleanup EXIT
    trap 'exit 1' HUP INT TERM
    printf '%s\n' "$KUBECONFIG_DATA" >"$KUBE_CONFIG_FILE"
    KUBECONFIG=$KUBE_CONFIG_FILE
  fi
  export KUBECONFIG
fi

kube_with_stdin() {
  if [ -n "${KUBE_CONTEXT:-}" ]; then
    kubectl --context "$KUBE_CONTEXT" "$@"
  else
    kubectl "$@"
  fi
}

kube() {
  kube_with_stdin "$@" </dev/null
}
