#!/usr/bin/env bash
# tlsMode issuer with certManagerInstalled: before the first Certificate, fail `pulumi up` with a clear message
# unless the cluster serves cert-manager's CRDs and the named issuer is Ready. Without this, a Certificate
# would fail with a bare "no matches for kind", or wait for its Ready condition until the timeout.
# Runs on bash 3.2 (macOS) and 5, and dash: no arrays.
# ISSUER_KIND     ClusterIssuer or Issuer
# ISSUER_NAME     the issuer's name
# ISSUER_NAMESPACE  the namespace an Issuer is in (where the Certificates are)
set -u
# uses: lib/kube.sh
# uses: lib/crds.sh
crds="certificates.cert-manager.io certificaterequests.cert-manager.io issuers.cert-manager.io clusterissuers.cert-manager.io"

find_missing_crds $crds
if [ -n "$missing" ]; then
  echo "certManagerInstalled is true but cert-manager's CRDs are missing:$missing" >&2
  echo "Install cert-manager first, or set homelab-mesh:certManagerInstalled to false to let the program install it." >&2
  exit 1
fi

if [ "$ISSUER_KIND" = "Issuer" ]; then
  set -- issuers.cert-manager.io "$ISSUER_NAME" --namespace "$ISSUER_NAMESPACE"
  described="the Issuer $ISSUER_NAMESPACE/$ISSUER_NAME"
else
  set -- clusterissuers.cert-manager.io "$ISSUER_NAME"
  described="the ClusterIssuer $ISSUER_NAME"
fi
# The Ready condition cert-manager's issuer controllers set (status.conditions, type Ready).
ready='{range .status.conditions[?(@.type=="Ready")]}{.status}: {.message}{end}'
if ! output=$(kube get "$@" -o "jsonpath=$ready" 2>&1); then
  case "$output" in
    *NotFound* | *"not found"*)
      echo "tlsIssuer names $described, which does not exist on the cluster." >&2
      exit 1
      ;;
    *)
      echo "Could not ask the cluster for $described: $output" >&2
      exit 1
      ;;
  esac
fi
case "$output" in
  "True: "*) echo "$described is Ready" ;;
  "")
    echo "$described is not Ready: it reports no Ready condition yet." >&2
    exit 1
    ;;
  *)
    echo "$described is not Ready: $output" >&2
    exit 1
    ;;
esac
