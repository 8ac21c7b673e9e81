#!/usr/bin/env bash
# Waits until MetalLB's validating webhook answers, by server-side dry-runs of an address pool.
# The controller reports Ready before its webhook serves (metallb/metallb#1610, #1597) and Pulumi does
# not retry webhook errors, so creating the pools right after the Helm release fails without this.
set -uo pipefail
: "${POOL_MANIFEST:?POOL_MANIFEST is required}"
timeout_seconds="${TIMEOUT_SECONDS:-300}"
interval_seconds="${INTERVAL_SECONDS:-5}"
context=()
if [ -n "${KUBE_CONTEXT:-}" ]; then context=(--context "$KUBE_CONTEXT"); fi

deadline=$((SECONDS + timeout_seconds))
while :; do
  if output=$(printf '%s' "$POOL_MANIFEST" | kubectl "${context[@]}" apply --dry-run=server -f - 2>&1); then
    echo "MetalLB webhook is serving"
    exit 0
  fi
  if grep -q "denied the request" <<<"$output"; then
    # The webhook answered and rejected the pool: retrying cannot help.
    echo "MetalLB rejected the address pool: $output" >&2
    exit 1
  fi
  if [ "$SECONDS" -ge "$deadline" ]; then
    echo "MetalLB's webhook did not answer within ${timeout_seconds}s. Last error: $output" >&2
    echo "Look at: kubectl -n metallb-system get pods,endpoints; kubectl -n metallb-system logs deploy/metallb-controller" >&2
    exit 1
  fi
  sleep "$interval_seconds"
done
