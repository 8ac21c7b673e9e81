#!/bin/bash
# Before `pulumi up` changes the Gateway API CRDs or any Istio release: does the cluster itself allow the
# move the stack asks for? Runs at `pulumi up` only (pulumi-command does not run commands in preview).
# Written for bash 3.2 (macOS) and bash 5: no arrays, no ${x,,}, no mapfile.
#
# Inputs (environment), computed by the program from its compatibility table (components/upgrade.py):
#   ISTIO_VERSION, GATEWAY_API_VERSION   the target pair, e.g. 1.31.1 and v1.6.1
#   GATEWAY_API_CRDS                     managed (this stack installs the CRDs) or external (someone else does)
#   EXPECTED_GATEWAY_API_VERSIONS        managed: the releases this stack installed or installs, e.g. "v1.5.1 v1.6.1"
#   KUBERNETES_MIN, KUBERNETES_MAX       Kubernetes minors the target Istio supports, e.g. 1.32 and 1.36
#   TARGET_ISTIO_GATEWAY_API_MINORS      Gateway API minors the target istiod runs with, e.g. "1.5 1.6"
#   ISTIO_RELEASES_FOR_TARGET_CRDS       per Istio minor that runs the target CRDs, its first patch that does,
#                                        e.g. "1.28.6 1.29.2 1.30.0 1.31.0"
#   CRDS_AFTER_ISTIOD                    true: the CRDs change after istiod; false: before it (first install too)
#   STEPPED_FROM_ISTIO_VERSION           optional: the Istio version the stack's record says this step leaves
#                                        (its previousIstioVersion once the record accepted the step); a
#                                        step down is the stack's own rollback only from that version
#   KUBE_CONTEXT                         optional kubeconfig context
set -u
# uses: lib/kube.sh

# istioctl's context flag: one word or empty, left unquoted below so that empty means no argument.
CONTEXT_FLAG=""
if [ -n "${KUBE_CONTEXT:-}" ]; then
    CONTEXT_FLAG="--context=${KUBE_CONTEXT}"
fi
CRD=gateways.gateway.networking.k8s.io

fail() {
    printf 'upgrade check refused: %s\n' "$*" >&2
    exit 1
}

# "v1.33.4+k3s1", "1.31.1-distroless" -> "1.33", "1.31"; empty when there is no major.minor.
minor_of() {
    printf '%s\n' "$1" | sed -n 's/^v\{0,1\}\([0-9][0-9]*\)\.\([0-9][0-9]*\).*/\1.\2/p'
}

# "1.33" -> 33
minor_number() {
    printf '%s\n' "${1#*.}"
}

# Is word $1 in the space-separated list $2?
listed() {
    case " $2 " in
        *" $1 "*) return 0 ;;
    esac
    return 1
}

# Is version $1 (v1.6.1 or 1.31.1) newer than $2? Compares major, minor and patch as numbers.
newer_than() {
    left=$(printf '%s\n' "${1#v}" | sed 's/[^0-9.].*//')
    right=$(printf '%s\n' "${2#v}" | sed 's/[^0-9.].*//')
    IFS=. read -r l1 l2 l3 <<EOF
$left
EOF
    IFS=. read -r r1 r2 r3 <<EOF
$right
EOF
    for pair in "${l1:-0} ${r1:-0}" "${l2:-0} ${r2:-0}" "${l3:-0} ${r3:-0}"; do
        set -- $pair
        if [ "$1" -gt "$2" ]; then return 0; fi
        if [ "$1" -lt "$2" ]; then return 1; fi
    done
    return 1
}

# Does Istio release $1 (1.29.4, 1.29.4-distroless) run the target CRDs? Only from the first patch listed
# for its minor in ISTIO_RELEASES_FOR_TARGET_CRDS.
runs_target_crds() {
    for first in $ISTIO_RELEASES_FOR_TARGET_CRDS; do
        if [ "$(minor_of "$first")" = "$(minor_of "$1")" ]; then
            if newer_than "$first" "$1"; then return 1; fi
            return 0
        fi
    done
    return 1
}

for required in ISTIO_VERSION GATEWAY_API_VERSION GATEWAY_API_CRDS KUBERNETES_MIN KUBERNETES_MAX \
    TARGET_ISTIO_GATEWAY_API_MINORS ISTIO_RELEASES_FOR_TARGET_CRDS CRDS_AFTER_ISTIOD; do
    eval "value=\${$required:-}"
    [ -n "$value" ] || fail "$required is required"
done
target_minor=$(minor_of "$ISTIO_VERSION")

# --- Kubernetes ------------------------------------------------------------------------------------------
server=$(kube get --raw /version 2>&1) || fail "cannot reach the cluster: $server"
server_version=$(printf '%s\n' "$server" | sed -n 's/.*"gitVersion": *"\([^"]*\)".*/\1/p' | head -n 1)
server_minor=$(minor_of "$server_version")
[ -n "$server_minor" ] || fail "cannot read the Kubernetes version from: $server"
if [ "$(minor_number "$server_minor")" -lt "$(minor_number "$KUBERNETES_MIN")" ] ||
    [ "$(minor_number "$server_minor")" -gt "$(minor_number "$KUBERNETES_MAX")" ]; then
    fail "the cluster runs Kubernetes $server_version; Istio $target_minor supports $KUBERNETES_MIN to $KUBERNETES_MAX." \
        "Keep istioVersion at a minor that supports it, or upgrade Kubernetes first"
fi

# --- istiod ----------------------------------------------------------------------------------------------
istiod_minor=""
image=$(kube -n istio-system get deployment istiod -o 'jsonpath={.spec.template.spec.containers[0].image}' 2>&1)
if [ $? -eq 0 ]; then
    istiod_version=${image##*:}
    istiod_minor=$(minor_of "$istiod_version")
    [ -n "$istiod_minor" ] || fail "istiod runs image $image, whose tag is not an Istio release; pin it before upgrading"
    distance=$(($(minor_number "$target_minor") - $(minor_number "$istiod_minor")))
    if [ "$distance" -gt 1 ] || [ "$distance" -lt -1 ]; then
        fail "the cluster runs istiod $istiod_version and istioVersion is $ISTIO_VERSION: move one Istio minor per" \
            "pulumi up (docs/upgrading.md)"
    fi
    # The running istiod is where the stack starts, as if recorded: an adopted cluster (or one changed by
    # hand) is never moved below it, except by the rollback the record accepted, which steps down from
    # the version the stack itself deployed.
    if newer_than "$istiod_version" "$ISTIO_VERSION" &&
        [ "${istiod_version%%-*}" != "${STEPPED_FROM_ISTIO_VERSION:-}" ]; then
        fail "the cluster runs istiod $istiod_version, newer than istioVersion $ISTIO_VERSION; Istio is never" \
            "downgraded. Set istioVersion to the running version (${istiod_version%%-*}) and step forward from there" \
            "(docs/upgrading.md)"
    fi
    if [ "$CRDS_AFTER_ISTIOD" = false ] && ! runs_target_crds "$istiod_version"; then
        fail "the Gateway API CRDs change to $GATEWAY_API_VERSION before istiod, and the running istiod" \
            "$istiod_version cannot run them (Istio releases that can, from: $ISTIO_RELEASES_FOR_TARGET_CRDS)"
    fi
else
    case "$image" in
        *NotFound* | *"not found"*) ;;
        *) fail "cannot read istiod's deployment: $image" ;;
    esac
fi

# --- Gateway API CRDs ------------------------------------------------------------------------------------
fields='{.metadata.annotations.gateway\.networking\.k8s\.io/bundle-version}|{.metadata.labels.app\.kubernetes\.io/managed-by}|{.metadata.annotations.meta\.helm\.sh/release-name}'
installed=$(kube get crd "$CRD" -o "jsonpath=$fields" 2>&1)
if [ $? -ne 0 ]; then
    case "$installed" in
        *NotFound* | *"not found"*) installed="" ;;
        *) fail "cannot read the Gateway API CRDs: $installed" ;;
    esac
fi
bundle=$(printf '%s\n' "$installed" | cut -d '|' -f 1)
managed_by=$(printf '%s\n' "$installed" | cut -s -d '|' -f 2)
helm_release=$(printf '%s\n' "$installed" | cut -s -d '|' -f 3)

if [ "$GATEWAY_API_CRDS" = external ]; then
    [ -n "$installed" ] || fail "gatewayApiCrds is external but no Gateway API CRDs are installed ($CRD);" \
        "install a release Istio $target_minor runs (Gateway API $TARGET_ISTIO_GATEWAY_API_MINORS) first"
    listed "$(minor_of "$bundle")" "$TARGET_ISTIO_GATEWAY_API_MINORS" ||
        fail "the installed Gateway API CRDs are ${bundle:-unversioned}; Istio $target_minor runs" \
            "$TARGET_ISTIO_GATEWAY_API_MINORS. Have their owner change them first"
elif [ -n "$installed" ]; then
    if [ "$managed_by" = Helm ] || [ -n "$helm_release" ]; then
        fail "the Gateway API CRDs belong to Helm release '${helm_release:-unknown}'; this stack will not take" \
            "them over. Set gatewayApiCrds: external, or remove that release's CRDs"
    fi
    listed "$bundle" "${EXPECTED_GATEWAY_API_VERSIONS:-}" ||
        fail "the installed Gateway API CRDs are ${bundle:-unversioned}, which this stack did not install" \
            "(expected ${EXPECTED_GATEWAY_API_VERSIONS:-none}). Set gatewayApiCrds: external, or remove them"
    if newer_than "$bundle" "$GATEWAY_API_VERSION"; then
        fail "the cluster has Gateway API $bundle, newer than gatewayApiVersion $GATEWAY_API_VERSION; CRDs are" \
            "never downgraded (v1.5 and newer refuse it). Keep gatewayApiVersion: $bundle and fix the step forward"
    fi
    if [ "$CRDS_AFTER_ISTIOD" = true ] && ! listed "$(minor_of "$bundle")" "$TARGET_ISTIO_GATEWAY_API_MINORS"; then
        fail "istiod $ISTIO_VERSION would start with the installed Gateway API $bundle, which it cannot run" \
            "(it runs $TARGET_ISTIO_GATEWAY_API_MINORS)"
    fi
fi

# --- istioctl's own checks, when it is installed --------------------------------------------------------
if command -v istioctl >/dev/null 2>&1; then
    precheck=$(istioctl $CONTEXT_FLAG x precheck 2>&1) || fail "istioctl x precheck found problems:
$precheck"
fi

printf 'upgrade check passed: Kubernetes %s, istiod %s -> %s, Gateway API CRDs %s -> %s (%s)\n' \
    "$server_minor" "${istiod_minor:-none}" "$ISTIO_VERSION" "${bundle:-none}" "$GATEWAY_API_VERSION" \
    "$GATEWAY_API_CRDS"
