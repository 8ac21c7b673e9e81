#!/usr/bin/env bash
# Fails `pulumi up` with a clear message when monitoring is on but the cluster has no Prometheus Operator:
# without its CRDs every PodMonitor/ServiceMonitor would fail with a bare "no matches for kind".
# Runs on bash 3.2 (macOS) and 5: no arrays.
set -u
# uses: lib/kube.sh
crds="podmonitors.monitoring.coreos.com servicemonitors.monitoring.coreos.com"

missing=""
for crd in $crds; do
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

if [ -n "$missing" ]; then
  echo "monitoring is true but the Prometheus Operator's CRDs are missing:$missing" >&2
  echo "Install the Prometheus Operator (e.g. the kube-prometheus-stack chart) first, or set" >&2
  echo "homelab-mesh:monitoring to false." >&2
  exit 1
fi
echo "Prometheus Operator CRDs present"
