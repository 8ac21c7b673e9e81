"""Pure builders for per-namespace policy: NetworkPolicy, AuthorizationPolicy, PeerAuthentication, waypoint."""

from __future__ import annotations

from typing import Any

from . import names
from .settings import AuthorizationRule, MeshedNamespace

HBONE_PORT = 15008
ISTIOD_XDS_PORT = 15012
ISTIOD_WEBHOOK_PORT = 15017
# ambient SNATs kubelet probes to this link-local address (istio.io docs/ambient/usage/networkpolicy).
KUBELET_PROBE_SOURCE = "169.254.7.127/32"


def _tcp(*ports: int) -> list[dict[str, Any]]:
    return [{"protocol": "TCP", "port": port} for port in ports]


def _namespaces_labelled_ambient() -> dict[str, Any]:
    return {"namespaceSelector": {"matchLabels": {names.DATAPLANE_MODE_LABEL: "ambient"}}}


def network_policy_spec() -> dict[str, Any]:
    """Default-deny for a restricted namespace, opened for exactly what ambient needs.

    Mesh traffic arrives and leaves as HBONE on 15008 between pod IPs, so app-port rules no longer
    match it; istio-system rules are the homelab seed's (15008/15012/15017).
    """
    return {
        "podSelector": {},
        "policyTypes": ["Ingress", "Egress"],
        "ingress": [
            {"from": [_namespaces_labelled_ambient()], "ports": _tcp(HBONE_PORT)},
            {"from": [{"ipBlock": {"cidr": KUBELET_PROBE_SOURCE}}]},
        ],
        "egress": [
            {
                "to": [
                    {
                        "namespaceSelector": {"matchLabels": {names.NAMESPACE_NAME_LABEL: "kube-system"}},
                        "podSelector": {"matchLabels": {"k8s-app": "kube-dns"}},
                    }
                ],
                "ports": [{"protocol": "UDP", "port": 53}, {"protocol": "TCP", "port": 53}],
            },
            {"to": [_namespaces_labelled_ambient()], "ports": _tcp(HBONE_PORT)},
            {
                "to": [{"namespaceSelector": {"matchLabels": {names.NAMESPACE_NAME_LABEL: names.ISTIO_NAMESPACE}}}],
                "ports": _tcp(HBONE_PORT, ISTIOD_XDS_PORT, ISTIOD_WEBHOOK_PORT),
            },
        ],
    }


def _source_rule(
    namespaces: list[str], principals: list[str] | None = None, ip_blocks: list[str] | None = None
) -> list[dict[str, Any]]:
    sources: list[dict[str, Any]] = [{"source": {"namespaces": namespaces}}]
    if principals:
        sources.append({"source": {"principals": principals}})
    if ip_blocks:
        # Plaintext clients have no identity; ztunnel matches them by source address (components/settings/mesh.py,
        # PlaintextSource). Each `from` entry is OR-ed with the others.
        sources.append({"source": {"ipBlocks": ip_blocks}})
    return sources


def _rule(rule: AuthorizationRule) -> dict[str, Any]:
    operation: dict[str, Any] = {}
    if rule.ports:
        operation["ports"] = [str(port) for port in rule.ports]
    if rule.methods:
        operation["methods"] = list(rule.methods)
    if rule.paths:
        operation["paths"] = list(rule.paths)
    spec: dict[str, Any] = {"from": [{"source": {"namespaces": list(rule.from_)}}]}
    if operation:
        spec["to"] = [{"operation": operation}]
    if rule.headers:
        spec["when"] = [
            {"key": f"request.headers[{header}]", "values": list(values)}
            for header, values in sorted(rule.headers.items())
        ]
    return spec


def _allowed_namespaces(namespace: MeshedNamespace) -> list[str]:
    return [namespace.name, *sorted(set(namespace.options.peers) - {namespace.name})]


def l4_authorization_spec(namespace: MeshedNamespace, routed: bool) -> dict[str, Any]:
    """ALLOW policy enforced by ztunnel: the namespace itself, its peers and, when routed, the ingress gateway.

    Any ALLOW policy denies what it does not match, so this is the namespace's default-deny.
    """
    gateway = [names.spiffe_principal(names.GATEWAY_NAMESPACE, names.GATEWAY_SERVICE_ACCOUNT)] if routed else None
    rules = [{"from": _source_rule(_allowed_namespaces(namespace), gateway, namespace.options.plaintext_blocks)}]
    rules += [_rule(rule) for rule in namespace.options.rules if not rule.l7_fields]
    return {"action": "ALLOW", "rules": rules}


def waypoint_authorization_spec(namespace: MeshedNamespace, routed: bool) -> dict[str, Any]:
    """ALLOW policy enforced by the namespace's waypoint, where L7 rules are allowed; it admits the ingress
    gateway when routed traffic goes through the waypoint (ingressUseWaypoint)."""
    through_waypoint = routed and namespace.options.ingress_use_waypoint
    gateway = (
        [names.spiffe_principal(names.GATEWAY_NAMESPACE, names.GATEWAY_SERVICE_ACCOUNT)] if through_waypoint else None
    )
    rules = [{"from": _source_rule(_allowed_namespaces(namespace), gateway)}]
    rules += [_rule(rule) for rule in namespace.options.rules]
    return {
        "targetRefs": [{"group": "gateway.networking.k8s.io", "kind": "Gateway", "name": names.WAYPOINT_NAME}],
        "action": "ALLOW",
        "rules": rules,
    }


def peer_authentication_spec(mode: str) -> dict[str, Any]:
    return {"mtls": {"mode": mode}}


def waypoint_spec() -> dict[str, Any]:
    return {
        "gatewayClassName": "istio-waypoint",
        "listeners": [{"name": "mesh", "port": HBONE_PORT, "protocol": "HBONE"}],
    }
