# Put in front of a script that checks CRDs are served (after lib/kube.sh, whose `kube` it calls).
# find_missing_crds <crd>...: sets $missing to those the cluster does not serve (kubectl's NotFound), each
# with a leading space; any other kubectl failure (forbidden, unreachable) stops the script: could not ask.
find_missing_crds() {
  local crd output
  missing=""
  for crd in "$@"; do
    if ! output=$(kube get crd "$crd" -o name 2>&1); then
      case "$output" in
        *NotFound* | *"not found"*) missing="$missing $crd" ;;
        *)
          echo "Could not ask the cluster for the CRD $crd: $output" >&2
          exit 1
          ;;
      esac
    fi
  done
}
