# Put in front of each script that calls kubectl (components/scripts.py): kubectl in the stack's context.
# `kube` closes stdin, so that kubectl never reads the input of a loop around it; `kube_with_stdin` passes
# the script's stdin on (a manifest piped to `apply -f -`).
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
