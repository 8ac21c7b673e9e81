#!/usr/bin/env bash
# What is already on the cluster, and who owns it, before this stack changes anything. Read-only: only
# `kubectl get`. Prints one table (stderr when refusing, stdout otherwise) and refuses what would fight or
# fail; any kubectl failure other than "not there" (forbidden, unreachable, unknown context) fails loudly,
# because "could not ask" is never "absent".
#
# Owners, in the order they are recognised:
#   this stack      an object Pulumi applied: a `pulumi-kubernetes*` field manager (server-side apply, the
#                   provider's default, which puts no label on objects: pulumi-kubernetes provider.go Check
#                   and fieldManagerName) or the label app.kubernetes.io/managed-by=pulumi (client-side
#                   apply, metadata/labels.go TrySetManagedByLabel). Pulumi does not name the stack there, so
#                   another Pulumi stack's object counts too; its create then fails with AlreadyExists.
#                   A Helm release record counts as this stack's on a redeploy (MODE=redeploy: the stack
#                   passed this inspection before, when the record was either absent or adopted), and in a
#                   namespace this stack created (the release waits for its namespace: a stack deployed
#                   before this inspection existed).
#   argocd          an Application in namespace argocd still manages it: the tracking annotation
#                   argocd.argoproj.io/tracking-id (`<app>:<group>/<kind>:<ns>/<name>`, the default tracking
#                   since Argo CD 3.0) or the label app.kubernetes.io/instance names it, or its destination
#                   namespace is the object's (argo-cd v3.5.1 docs/user-guide/resource_tracking.md).
#   helm release    a release record (Secret sh.helm.release.v1.<name>.v<N>, labels owner=helm and
#                   name=<release>: helm v3.20.2 pkg/storage/driver/secrets.go).
#   istioctl        labels operator.istio.io/component or install.operator.istio.io/owning-resource(-namespace)
#                   as `istioctl install` sets them (istio 1.28.2 operator/pkg/install/install.go
#                   getOwnerLabels). The istiod chart itself renders owning-resource "unknown"
#                   (istio-discovery/templates/deployment.yaml), which is not istioctl's. istioctl before 1.23
#                   also left the IstioOperator `installed-state` (dropped by istio/istio#47860).
#   helm template   Argo CD's tracking with no Application left (detached), or Helm's ownership metadata
#                   without a release record.
#   other           anything else that exists.
#
# Inputs (environment), computed by the program (components/adoption.py):
#   MODE              first-deploy (the stack's first `pulumi up`), redeploy, or report (machine-readable
#                     lines for the program's adoption plan, never refuses)
#   ADOPT_EXISTING    true: other tools' objects are taken over (Helm take-ownership, imports); false: refused
#   RELEASES          one a line: <release> <namespace> <resource> <name>  (an object the chart renders)
#   OBJECTS           one a line: <resource> <namespace or -> <name>  (plain objects the program creates)
#   LABELLED_NAMESPACES  optional, space-separated: meshed namespaces the stack only labels (create: false),
#                     which must exist; a missing one is refused before anything changes
#   GATEWAY_API_CRD   optional: a CRD of the Gateway API bundle the stack installs (gatewayApiCrds: managed);
#                     its owner is shown, the live check (check-upgrade.sh) decides whether it is taken
#   GATEWAY_ADDRESS   optional: the address the stack's Gateway asks MetalLB for
#   GATEWAY_SERVICE   <namespace>/<name> of the Service istiod generates for that Gateway
#   HANDOVER_SERVICE  optional <namespace>/<name>: a Service that may hold the address until it is handed over
#   KUBE_CONTEXT      optional kubeconfig context
# Runs on bash 3.2 (macOS) as well as bash 5 and dash: POSIX sh constructs only, plus `local`.
set -uf
# uses: lib/kube.sh
mode="${MODE:-first-deploy}"
adopt="${ADOPT_EXISTING:-false}"
releases="${RELEASES:-}"
objects="${OBJECTS:-}"
address="${GATEWAY_ADDRESS:-}"
own_service="${GATEWAY_SERVICE:-}"
handover="${HANDOVER_SERVICE:-}"
case "$mode" in
  first-deploy | redeploy | report) ;;
  *) echo "cluster inspection: MODE must be first-deploy, redeploy or report, got '$mode'" >&2; exit 2 ;;
esac

if ! command -v kubectl >/dev/null 2>&1; then
  echo "cluster inspection: kubectl is not on PATH; it is needed to read what the cluster already runs" >&2
  exit 127
fi

work=$(mktemp -d) || exit 1
trap 'rm -rf "$work"; kube_cleanup' EXIT
trap 'exit 1' HUP INT TERM
table="$work/table"
refusals="$work/refusals"
report="$work/report"
: >"$table"
: >"$refusals"
: >"$report"

could_not_ask() {
  echo "cluster inspection: could not read $1; nothing was changed. kubectl said:" >&2
  cat "$work/error" >&2
  exit 1
}

# A kind whose CRD is not installed (no Argo CD, no IstioOperator) has nothing to find.
kind_missing() {
  grep -q "doesn't have a resource type" "$work/error"
}

row() {
  printf '  %-72s %-34s %s\n' "$1" "$2" "$3" >>"$table"
}

# "made by istioctl", "made outside this stack" (owner: other).
made_by() {
  if [ "$1" = other ]; then
    echo "made outside this stack"
  else
    echo "made by $1"
  fi
}

refuse() {
  printf '%s %s\n' - "$1" >>"$refusals"
}

# --- Argo CD Applications: name and destination namespace --------------------------------------------------
applications=""
if ! applications=$(kube -n argocd get applications.argoproj.io \
  -o 'jsonpath={range .items[*]}{.metadata.name} {.spec.destination.namespace}{"\n"}{end}' 2>"$work/error"); then
  kind_missing || could_not_ask "Argo CD Applications in namespace argocd"
  applications=""
fi

# The Applications (space-separated) that manage an object: the one its tracking id or instance label
# names; for an object that names none, those deploying to its namespace.
managing_applications() {
  local tracking instance namespace found name destination
  tracking="${1%%:*}"
  instance="$2"
  namespace="$3"
  found=""
  while read -r name destination; do
    [ -n "$name" ] || continue
    if [ "$name" = "$tracking" ] || [ "$name" = "$instance" ]; then
      found="$found $name"
    fi
  done <<EOF
$applications
EOF
  if [ -z "$found" ] && [ -z "$tracking$instance" ] && [ -n "$namespace" ] && [ "$namespace" != - ]; then
    while read -r name destination; do
      if [ -n "$name" ] && [ "$destination" = "$namespace" ]; then
        found="$found $name"
      fi
    done <<EOF
$applications
EOF
  fi
  printf '%s\n' "${found# }"
}

# --- istioctl's installed-state IstioOperator (istioctl before 1.23) ----------------------------------------
installed_state=""
if ! installed_state=$(kube -n istio-system get istiooperators.install.istio.io installed-state \
  --ignore-not-found -o name 2>"$work/error"); then
  kind_missing || could_not_ask "the IstioOperator installed-state in istio-system"
  installed_state=""
fi

# owner <resource> <namespace or -> <name>: prints `<owner>|<managing Applications>`; the owner is "absent"
# when the object is not there.
FIELDS='{.metadata.labels.app\.kubernetes\.io/managed-by}|{.metadata.annotations.meta\.helm\.sh/release-name}|{.metadata.labels.app\.kubernetes\.io/instance}|{.metadata.annotations.argocd\.argoproj\.io/tracking-id}|{.metadata.labels.operator\.istio\.io/component}|{.metadata.labels.install\.operator\.istio\.io/owning-resource}|{.metadata.labels.install\.operator\.istio\.io/owning-resource-namespace}|{range .metadata.managedFields[*]}{.manager} {end}'
owner() {
  local found managed_by helm_release instance tracking component owning owning_namespace managers applications_of
  applications_of=""
  if [ "$2" = - ]; then
    if ! found=$(kube get "$1" "$3" --ignore-not-found --show-managed-fields -o "jsonpath=$FIELDS" 2>"$work/error"); then
      kind_missing || could_not_ask "$1 $3"
      found=""
    fi
  elif ! found=$(kube -n "$2" get "$1" "$3" --ignore-not-found --show-managed-fields -o "jsonpath=$FIELDS" \
    2>"$work/error"); then
    # A kind whose CRD is not installed yet (MetalLB's, Istio's, the Gateway API's on a new cluster).
    kind_missing || could_not_ask "$1 $2/$3"
    found=""
  fi
  if [ -z "$found" ]; then
    echo "absent|"
    return
  fi
  IFS='|' read -r managed_by helm_release instance tracking component owning owning_namespace managers <<EOF
$found
EOF
  case " $managers" in
    *" pulumi-kubernetes"*) echo "this stack|"; return ;;
  esac
  if [ "$managed_by" = pulumi ]; then
    echo "this stack|"
    return
  fi
  if [ -n "$tracking$instance" ] || [ "$2" != - ]; then
    applications_of=$(managing_applications "$tracking" "$instance" "$2")
  fi
  if [ -n "$applications_of" ] && [ -n "$tracking$instance" ]; then
    echo "argocd|$applications_of"
  elif [ -n "$component" ] || [ -n "$owning_namespace" ] || { [ -n "$owning" ] && [ "$owning" != unknown ]; }; then
    echo "istioctl|"
  elif [ -n "$applications_of" ]; then
    echo "argocd|$applications_of"
  elif [ -n "$tracking" ] || [ "$managed_by" = Helm ] || [ -n "$helm_release" ]; then
    echo "helm template|"
  else
    echo "other|"
  fi
}

# Sets $who and $applications_of from `owner`'s answer; stops the inspection when kubectl could not answer.
classify() {
  local answer
  answer=$(owner "$@") || exit 1
  who="${answer%%|*}"
  applications_of="${answer#*|}"
}

argocd_way_forward() {
  local application commands
  commands=""
  for application in $1; do
    # Argo CD documents the non-cascading delete: unset the finalizer resources-finalizer.argocd.argoproj.io,
    # then delete the Application; its resources stay (argo-cd v3.5.1 docs/user-guide/app_deletion.md).
    commands="$commands
      kubectl${KUBE_CONTEXT:+ --context $KUBE_CONTEXT} -n argocd patch application $application --type merge -p '{\"metadata\":{\"finalizers\":null}}'
      kubectl${KUBE_CONTEXT:+ --context $KUBE_CONTEXT} -n argocd delete application $application"
  done
  printf '%s' "$commands"
}

# --- Helm releases the stack installs ----------------------------------------------------------------------
while read -r release namespace resource name; do
  [ -n "$release" ] || continue
  records=$(kube -n "$namespace" get secrets -l "owner=helm,name=$release" -o name 2>"$work/error") ||
    could_not_ask "Helm release records of $release in $namespace"
  classify "$resource" "$namespace" "$name"
  what="helm release $release ($namespace)"
  record=no
  if [ -n "$records" ]; then
    record=yes
    namespace_owner=$(owner namespace - "$namespace") || exit 1
    if [ "$mode" = redeploy ] || [ "${namespace_owner%%|*}" = "this stack" ]; then
      who="this stack"
    elif [ "$who" != argocd ]; then
      who="helm release"
    fi
  fi
  printf 'release %s %s %s %s\n' "$release" "$namespace" "$record" "$(printf '%s' "$who" | tr ' ' '-')" >>"$report"
  case "$who" in
    absent) row "$what" "nothing yet" "install" ;;
    "this stack") row "$what" "this stack" "upgrade" ;;
    argocd)
      row "$what" "Argo CD: $applications_of" "refused: detach it first"
      refuse "$what is still managed by the Argo CD Application(s) $applications_of, which would put its own version back after every change. Detach without deleting what it manages (Argo CD's non-cascading delete), then run pulumi up again:$(argocd_way_forward "$applications_of")"
      ;;
    "helm release")
      if [ "$adopt" = true ]; then
        row "$what" "a Helm release record" "import the release, then upgrade"
      else
        row "$what" "a Helm release record" "refused: adoptExisting is false"
        refuse "$what was installed by Helm outside this stack. Set adoptExisting: true to import the release (docs/adoption.md), or uninstall it"
      fi
      ;;
    *)
      if [ "$adopt" = true ]; then
        row "$what" "$who" "install, taking ownership"
      else
        row "$what" "$who" "refused: adoptExisting is false"
        refuse "$what: its $resource $namespace/$name exists, $(made_by "$who"); Helm refuses to install over objects without its ownership metadata. Set adoptExisting: true to take them over (docs/adoption.md)"
      fi
      ;;
  esac
done <<EOF
$releases
EOF

# --- Plain objects the program creates with fixed names ------------------------------------------------------
# What adoptExisting imports (components/adoption.py): namespaces, and MetalLB's pools and L2Advertisement,
# which cannot be deleted and made again under a Service that holds one of their addresses.
importable() {
  case "$1" in
    namespace | ipaddresspools.metallb.io | l2advertisements.metallb.io) return 0 ;;
  esac
  return 1
}

while read -r resource namespace name; do
  [ -n "$resource" ] || continue
  classify "$resource" "$namespace" "$name"
  if [ "$namespace" = - ]; then
    what="$resource $name"
  else
    what="$resource $namespace/$name"
  fi
  printf 'object %s %s %s %s\n' "$resource" "$namespace" "$name" "$(printf '%s' "$who" | tr ' ' '-')" >>"$report"
  case "$who" in
    absent) row "$what" "nothing yet" "create" ;;
    "this stack") row "$what" "this stack" "keep" ;;
    argocd)
      row "$what" "Argo CD: $applications_of" "refused: detach it first"
      refuse "$what is still managed by the Argo CD Application(s) $applications_of. Detach without deleting what it manages, then run pulumi up again:$(argocd_way_forward "$applications_of")"
      ;;
    *)
      if [ "$mode" = redeploy ]; then
        row "$what" "$who" "keep (adopted before)"
      elif [ "$adopt" = true ] && importable "$resource"; then
        row "$what" "$who" "import"
      elif importable "$resource"; then
        row "$what" "$who" "refused: adoptExisting is false"
        refuse "$what exists, $(made_by "$who"), and is not this stack's. Set adoptExisting: true to import it, or import it yourself with pulumi import (docs/adoption.md)"
      else
        row "$what" "$who" "refused: not this stack's"
        refuse "$what exists, $(made_by "$who"), and is not this stack's. Delete it, or bring it into the stack with pulumi import (docs/adoption.md)"
      fi
      ;;
  esac
done <<EOF
$objects
EOF

# --- Meshed namespaces the stack labels but does not create ----------------------------------------------------
for name in ${LABELLED_NAMESPACES:-}; do
  if ! found=$(kube get namespace "$name" --ignore-not-found -o name 2>"$work/error"); then
    could_not_ask "namespace $name"
  fi
  printf 'labelled %s %s\n' "$name" "$([ -n "$found" ] && echo present || echo absent)" >>"$report"
  if [ -n "$found" ]; then
    row "namespace $name" "exists" "label istio.io/dataplane-mode"
  else
    row "namespace $name" "nothing" "refused: it must exist"
    refuse "namespace $name is meshed with namespaceOptions.$name.create: false (the default), so the stack only labels it, but it does not exist. Create it (kubectl create namespace $name), or set namespaceOptions.$name.create: true to have the stack create and own it"
  fi
done

# --- The Gateway API CRDs --------------------------------------------------------------------------------
if [ -n "${GATEWAY_API_CRD:-}" ]; then
  classify customresourcedefinition - "$GATEWAY_API_CRD"
  what="gateway api crds ($GATEWAY_API_CRD)"
  case "$who" in
    absent) row "$what" "nothing yet" "create" ;;
    argocd)
      row "$what" "Argo CD: $applications_of" "refused: detach it first"
      refuse "$what are still managed by the Argo CD Application(s) $applications_of. Detach without deleting what it manages, then run pulumi up again:$(argocd_way_forward "$applications_of")"
      ;;
    *) row "$what" "$who" "as upgrade-live-check decides" ;;
  esac
fi

if [ -n "$installed_state" ]; then
  row "istiooperator istio-system/installed-state" "istioctl" "left alone"
fi

# --- The gateway address -----------------------------------------------------------------------------------
if [ -n "$address" ]; then
  services=$(kube get services -A -o 'jsonpath={range .items[*]}{.metadata.namespace}/{.metadata.name}|{.spec.loadBalancerIP}|{.metadata.annotations.metallb\.io/loadBalancerIPs}|{.metadata.annotations.metallb\.universe\.tf/loadBalancerIPs}|{range .status.loadBalancer.ingress[*]}{.ip} {end}{"\n"}{end}' \
    2>"$work/error") || could_not_ask "the cluster's Services (who holds $address)"
  holders=""
  while IFS='|' read -r service requested annotated legacy assigned; do
    [ -n "$service" ] || continue
    case " $requested $(printf '%s' "$annotated,$legacy" | tr ',' ' ') $assigned " in
      *" $address "*) holders="$holders $service" ;;
    esac
  done <<EOF
$services
EOF
  held=""
  for service in $holders; do
    if [ "$service" = "$own_service" ]; then
      row "address $address" "this stack ($service)" "keep"
    elif [ "$service" = "$handover" ]; then
      row "address $address" "Service $service" "hand over (handoverFrom)"
    else
      held="$held $service"
    fi
  done
  for service in $held; do
    row "address $address" "Service $service" "refused: held by another Service"
    refuse "gatewayAddress $address is held by the Service $service; the Gateway would wait for it forever. Give the Gateway a free address of the pool first, and once it answers there hand this one over with handoverFrom: $service (docs/adoption.md)"
  done
  [ -n "$holders" ] || row "address $address" "free" "assign"
fi

if [ "$mode" = report ]; then
  cat "$report"
  echo end
  exit 0
fi
if [ -s "$refusals" ]; then
  {
    echo "cluster inspection refused (adoptExisting: $adopt):"
    cat "$table"
    echo
    cat "$refusals"
  } >&2
  exit 1
fi
echo "cluster inspection passed (adoptExisting: $adopt):"
cat "$table"
