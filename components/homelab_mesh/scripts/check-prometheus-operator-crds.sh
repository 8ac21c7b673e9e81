#!/usr/bin/env bash
# Fails `pulumi up` with a clear message when monitoring is on but the cluster has no Prometheus Operator:
# without its CRDs every PodMonitor/ServiceMonitor would fail with a bare "no matches for kind".
# Runs on bash 3.2 (macOS) and 5: no arrays.
set -u
# uses: lib/kube.sh
# uses: lib/crds.sh
crds="podmonitors.monitoring.coreos.com servicemonitors.monitoring.coreos.com"

find_missing_crds $crds

if [ -n "$missing" ]; then
  echo "monitoring is true but the Prometheus Operator's CRDs are missing:$missing" >&2
  echo "Install the Prometheus Operator (e.g. the kube-prometheus-stack chart) first, or set" >&2
  echo "homelab-mesh:monitoring to false." >&2
  exit 1
fi
echo "Prometheus Operator CRDs present"
