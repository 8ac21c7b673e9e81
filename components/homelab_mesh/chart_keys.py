"""The top-level values each chart reads, so that `helmValues` can refuse a key the chart would ignore.

Read from the charts' own sources (the union over the versions this program supports, since a key that
only newer charts read is still a real key):
- Istio base, istiod, cni, ztunnel: the keys under `_internal_defaults_do_not_set` in each chart's
  `values.yaml` at istio/istio tags 1.28.2, 1.29.6, 1.30.3 and 1.31.0-rc.0, plus `profile`,
  `compatibilityVersion`, `platform` and `global`, which `templates/zzz_profile.yaml` reads itself.
- MetalLB: `charts/metallb/values.yaml` and `values.schema.json` at tag metallb-chart-0.16.1.
- cert-manager: the `helm-values` definition of `deploy/charts/cert-manager/values.schema.json` at v1.21.1
  (the chart itself refuses any other key: `additionalProperties: false`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

_ISTIO_PROFILE_KEYS = "profile compatibilityVersion platform global"


def _keys(*groups: str) -> frozenset[str]:
    return frozenset(key for group in groups for key in group.split())


CHART_TOP_LEVEL_KEYS: dict[str, frozenset[str]] = {
    "istio-base": _keys(
        """
        base defaultRevision experimental
        """,
        _ISTIO_PROFILE_KEYS,
    ),
    "istiod": _keys(
        """
        affinity autoscaleBehavior autoscaleEnabled autoscaleMax autoscaleMin base cni configMap cpu
        deploymentAnnotations deploymentLabels env envVarFrom experimental extraContainerArgs gatewayClasses
        gateways hub image initContainers ipFamilies ipFamilyPolicy istiodRemote jwksResolverExtraRootCA
        keepaliveMaxServerConnectionAge memory meshConfig nodeSelector ownerName pdb podAnnotations
        podLabels replicaCount resources revision revisionTags rollingMaxSurge rollingMaxUnavailable
        seccompProfile serviceAccountAnnotations serviceAnnotations sidecarInjectorWebhook
        sidecarInjectorWebhookAnnotations tag taint telemetry tolerations topologySpreadConstraints
        traceSampling trustedZtunnelName trustedZtunnelNamespace variant volumeMounts volumes
        """,
        _ISTIO_PROFILE_KEYS,
    ),
    "istio-cni": _keys(
        """
        affinity ambient chained cniBinDir cniConfDir cniConfFileName cniNetnsDir daemonSetLabels env
        excludeNamespaces hub image istioOwnedCNIConfig istioOwnedCNIConfigFileName logging ownerName
        podAnnotations podLabels provider pullPolicy repair resourceQuotas resources revision seLinuxOptions
        seccompProfile tag terminationGracePeriodSeconds tolerations updateStrategy useAppArmorAnnotation
        variant
        """,
        _ISTIO_PROFILE_KEYS,
    ),
    "ztunnel": _keys(
        """
        annotations caAddress dnsConfig dnsPolicy env hub image imagePullPolicy imagePullSecrets
        istioNamespace labels logAsJson logLevel meshConfig multiCluster network peerCaCrl podAnnotations
        podLabels resourceName resourceQuotas resourceScope resources revision seLinuxOptions tag
        terminationGracePeriodSeconds tolerations updateStrategy variant volumeMounts volumes xdsAddress
        """,
        _ISTIO_PROFILE_KEYS,
    ),
    "metallb": _keys(
        """
        configInLine controller crds frr-k8s frrk8s fullNameOverride fullnameOverride imagePullSecrets
        loadBalancerClass nameOverride networkpolicies prometheus rbac speaker tls
        """,
    ),
    "cert-manager": _keys(
        """
        acmesolver affinity approveSignerNames automountServiceAccountToken cainjector
        clusterResourceNamespace config containerSecurityContext crds creator deploymentAnnotations
        disableAutoApproval dns01RecursiveNameservers dns01RecursiveNameserversOnly
        enableCertificateOwnerRef enableServiceLinks enabled extraArgs extraContainers extraEnv extraObjects
        featureGates fullnameOverride global hostAliases http_proxy https_proxy image imageNamespace
        imageRegistry ingressShim installCRDs livenessProbe maxConcurrentChallenges nameOverride namespace
        networkPolicy no_proxy nodeSelector podAnnotations podDisruptionBudget podDnsConfig podDnsPolicy
        podLabels prometheus replicaCount resources runtimeClassName securityContext serviceAccount
        serviceAnnotations serviceIPFamilies serviceIPFamilyPolicy serviceLabels startupapicheck strategy
        tolerations topologySpreadConstraints volumeMounts volumes webhook
        """,
    ),
}


def merged_values(base: Mapping[str, Any], extra: Mapping[str, Any]) -> dict[str, Any]:
    """`extra` laid over `base` as Helm merges values files: maps merge key by key, anything else replaces."""
    result = dict(base)
    for key, value in extra.items():
        current = result.get(key)
        if isinstance(current, Mapping) and isinstance(value, Mapping):
            result[key] = merged_values(current, value)
        else:
            result[key] = value
    return result
