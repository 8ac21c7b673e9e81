#!/usr/bin/env bash
# Waits until MetalLB's validating webhook answers, by server-side dry-runs of every address pool
# (POOL_MANIFEST: one manifest, a v1 List of the pools).
# The controller reports Ready before its webhook serves (metallb/metallb#1610, #1597) and Pulumi does
# not retry webhook errors, so creating the pools right after the Helm release fails without this.
# Runs on bash 3.2 (macOS) as well as bash 5: POSIX sh constructs only, plus `local`.
set -u
# uses: lib/kube.sh
: "${POOL_MANIFEST:?POOL_MANIFEST is required}"
timeout_seconds="${TIMEOUT_SECONDS:-300}"
interval_seconds="${INTERVAL_SECONDS:-5}"

if ! command -v kubectl >/dev/null 2>&1; then
  echo "MetalLB webhook wait: kubectl is not on PATH; it is needed to probe the webhook" >&2
  exit 127
fi

deadline=$(($(date +%s) + timeout_seconds))
while :; do
  if output=$(printf '%s' "$POOL_MANIFEST" | kube_with_stdin apply --dry-run=server -f - 2>&1); then
    echo "MetalLB webhook is serving"
    exit 0
  fi
  case "$output" in
    *"denied the request"*)
      # The webhook answered and rejected a pool: retrying cannot help.
      echo "MetalLB rejected an address pool: $output" >&2
      exit 1
      ;;
  esac
  if [ "$(date +%s)" -ge "$deadline" ]; then
    echo "MetalLB's webhook did not answer within ${timeout_seconds}s. Last error: $output" >&2
    echo "Look at: kubectl -n metallb-system get pods,endpoints; kubectl -n metallb-system logs deploy/metallb-controller" >&2
    exit 1
  fi
  sleep "$interval_seconds"
done
