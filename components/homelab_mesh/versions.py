"""Pinned versions, chart locations and the compatibility table of the Istio minors this program can run.

Sources are named per fact; `istio@<ref>:<path>` is a file in github.com/istio/istio at that tag or branch,
`istio.io:<path>` a page in github.com/istio/istio.io (`content/en/...`), `gateway-api@<tag>:<path>` a file
in github.com/kubernetes-sigs/gateway-api.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

# Newest 1.31 patch: istio.io:news/releases/1.31.x/announcing-1.31.1 (published 2026-09-21); no 1.31.2 was
# published by 2026-11. Istio 1.31 is built against Gateway API v1.6 (istio@release-1.31:go.mod).
DEFAULT_ISTIO_VERSION = "1.31.1"
DEFAULT_GATEWAY_API_VERSION = "v1.6.1"
# metallb/metallb tag metallb-chart-0.16.1: charts/metallb/values.yaml still has speaker.frr.enabled and
# frrk8s.enabled (the latter now defaults to true), the two keys components/metallb.py sets.
DEFAULT_METALLB_VERSION = "0.16.1"

# The storage.googleapis.com / gcr.io locations are retired in December 2026 (istio/istio#61467).
DEFAULT_ISTIO_CHART_REPOSITORY = "https://blob.istio.io/istio-release/charts"
DEFAULT_ISTIO_HUB = "docker.io/istio"
DEFAULT_METALLB_CHART_REPOSITORY = "https://metallb.github.io/metallb"

GATEWAY_API_STANDARD_INSTALL_URL = (
    "https://github.com/kubernetes-sigs/gateway-api/releases/download/{version}/standard-install.yaml"
)

SEMVER = re.compile(r"^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)$")

Version = tuple[int, int, int]
Minor = tuple[int, int]


@dataclass(frozen=True)
class GatewayApiRange:
    """The Gateway API minors an Istio minor runs with from one of its patches on (inclusive, by minor)."""

    from_patch: int
    lowest: Minor
    highest: Minor


@dataclass(frozen=True)
class MinorSupport:
    """What one Istio minor runs with. Ranges are inclusive, by minor."""

    istio: Minor
    kubernetes: tuple[Minor, Minor]
    # By patch, ascending from patch 0: a later patch may run more Gateway API releases than an earlier one.
    gateway_api: tuple[GatewayApiRange, ...]
    # None while the minor is supported and upstream has not announced the date.
    end_of_life: date | None
    # The patch and Gateway API release an upgrade path lands on for this minor.
    newest_patch: Version
    recommended_gateway_api: Version


SUPPORT: dict[Minor, MinorSupport] = {
    row.istio: row
    for row in (
        # Kubernetes: istio.io data/compatibility/supportStatus.yml, the supported-releases page ("1.28":
        # 1.30-1.34); news/releases/1.28.x/announcing-1.28 said 1.29-1.35, the narrower range wins. End of life:
        # istio.io:news/support/announcing-1.28-eol-final (published 2026-07-01). Gateway API: built against
        # v1.4.0/v1.4.1 (istio@1.28.5:go.mod, istio@1.28.10:go.mod). Up to 1.28.5, v1.5 CRDs keep istiod from
        # becoming Ready (istio/istio#59443): it watches TLSRoute at v1alpha2, which v1.5's standard CRDs no longer
        # serve (gateway-api@v1.5.1:config/crd/standard/gateway.networking.k8s.io_tlsroutes.yaml). From 1.28.6
        # istiod ignores a TLSRoute CRD whose bundle-version is above v1.4 (istio@1.28.6 and istio@1.28.10:
        # pkg/kube/kclient/crdwatcher.go, MaximumCRDVersions; absent at 1.28.5), and every other kind it watches
        # (istio@1.28.6:pkg/config/schema/gvr/resources.gen.go: Gateway, GatewayClass, HTTPRoute, GRPCRoute,
        # BackendTLSPolicy at v1, ReferenceGrant at v1beta1) is still served by v1.5.1. v1.6 is left out: nothing
        # upstream says 1.28 runs it. Newest patch: tag 1.28.10.
        MinorSupport(
            (1, 28),
            ((1, 30), (1, 34)),
            (GatewayApiRange(0, (1, 4), (1, 4)), GatewayApiRange(6, (1, 4), (1, 5))),
            date(2026, 7, 1),
            (1, 28, 10),
            (1, 4, 1),
        ),
        # Kubernetes: supportStatus.yml and announcing-1.29 ("1.31 to 1.35"). End of life:
        # istio.io:news/support/announcing-1.29-eol ("support for 1.29 will end on the 12th of October, 2026";
        # the 1.29.9 notes say 15 October: the announced date is kept). Gateway API as for 1.28, with the TLSRoute
        # filter from 1.29.2 (istio@1.29.2 and istio@release-1.29: pkg/kube/kclient/crdwatcher.go,
        # MaximumCRDVersions; absent at 1.29.1; istio@1.29.6:go.mod pins v1.4.1). Newest patch 1.29.9, the last
        # 1.29 release (istio.io:news/releases/1.29.x/announcing-1.29.9).
        MinorSupport(
            (1, 29),
            ((1, 31), (1, 35)),
            (GatewayApiRange(0, (1, 4), (1, 4)), GatewayApiRange(2, (1, 4), (1, 5))),
            date(2026, 10, 12),
            (1, 29, 9),
            (1, 4, 1),
        ),
        # Kubernetes: supportStatus.yml and announcing-1.30 ("1.32 to 1.36"). Gateway API: built against v1.5.1
        # (istio@1.30.3:go.mod); v1.4 runs with TLSRoute ignored (istio@1.30.3:
        # pkg/config/schema/gatewayapi/minimumversions.go, tlsroutes >= 1.5), which is why its upgrade notes ask
        # for v1.5 CRDs before the upgrade (istio/istio.io#17394; ReferenceGrant, which that PR also names, is still
        # watched at v1beta1: istio@1.30.3:pkg/config/schema/gvr/resources.gen.go). components/upgrade.py `order`
        # gives istiod 1.30 the v1.5 CRDs first whenever the istiod it replaces runs them. Not v1.6, a conservative
        # choice: istiod 1.30 watches TCPRoute at v1alpha2 (istio@1.30.3:pkg/config/schema/gvr/resources.gen.go),
        # which the v1.6 standard CRDs no longer serve (gateway-api@v1.6.1:config/crd/standard/
        # gateway.networking.k8s.io_tcproutes.yaml), but only with PILOT_ENABLE_ALPHA_GATEWAY_API, off by default
        # (istio@release-1.30:pilot/pkg/config/kube/gateway/controller.go, pilot/pkg/features/experimental.go);
        # upstream never pairs 1.30 with v1.6. Newest patch: istio.io:news/releases/1.30.x/announcing-1.30.5.
        MinorSupport((1, 30), ((1, 32), (1, 36)), (GatewayApiRange(0, (1, 4), (1, 5)),), None, (1, 30, 5), (1, 5, 1)),
        # Kubernetes: istio.io:news/releases/1.31.x/announcing-1.31 ("supported on Kubernetes versions 1.32 to
        # 1.36"). Gateway API: built against v1.6.0 (istio@release-1.31:go.mod); with v1.5 CRDs it runs and
        # ignores only TCPRoute, which v1.5's standard channel does not ship (istio@release-1.31:
        # pkg/config/schema/gatewayapi/minimumversions.go, tcproutes >= 1.6). Newest patch: announcing-1.31.1.
        MinorSupport((1, 31), ((1, 32), (1, 36)), (GatewayApiRange(0, (1, 5), (1, 6)),), None, (1, 31, 1), (1, 6, 1)),
    )
}


def parse_version(text: str) -> Version | None:
    """`1.28.2` or `v1.4.1` -> (1, 28, 2); None when it is not a plain release version."""
    match = SEMVER.match(text[1:] if text.startswith("v") else text)
    if match is None:
        return None
    major, minor, patch = (int(part) for part in match.groups())
    return major, minor, patch


def format_version(version: Version | Minor) -> str:
    return ".".join(str(part) for part in version)


def known_minors() -> str:
    return ", ".join(format_version(minor) for minor in sorted(SUPPORT))


def gateway_api_range(istio: Version) -> tuple[Minor, Minor] | None:
    """The Gateway API minors this Istio release runs with (None for a minor outside the table)."""
    row = SUPPORT.get(istio[:2])  # type: ignore[call-overload]
    if row is None:
        return None
    current = [span for span in row.gateway_api if span.from_patch <= istio[2]][-1]
    return current.lowest, current.highest


def runs_with(istio: Version, gateway_api: Version) -> bool:
    """Whether this Istio release runs with these Gateway API CRDs (False for a minor outside the table)."""
    span = gateway_api_range(istio)
    return span is not None and span[0] <= gateway_api[:2] <= span[1]


def first_patch_running(minor: Minor, gateway_api: Version) -> int | None:
    """The lowest patch of this Istio minor from which every later patch runs these CRDs, or None."""
    row = SUPPORT.get(minor)
    if row is None:
        return None
    first: int | None = None
    for span in row.gateway_api:
        if span.lowest <= gateway_api[:2] <= span.highest:
            first = span.from_patch if first is None else first
        else:
            first = None
    return first


def gateway_api_incompatibility(istio: Version, gateway_api: Version) -> str | None:
    """Why this Istio release cannot run with these Gateway API CRDs, or None when it can."""
    span = gateway_api_range(istio)
    if span is None:
        return (
            f"Istio {istio[0]}.{istio[1]} is not in the compatibility table (known minors: {known_minors()}); "
            "add it to components/versions.py once its Kubernetes and Gateway API ranges are known"
        )
    if runs_with(istio, gateway_api):
        return None
    lowest, highest = span
    reason = (
        f"Istio {format_version(istio)} runs with Gateway API v{format_version(lowest)}.x to "
        f"v{format_version(highest)}.x; v{format_version(gateway_api)} is outside that range"
    )
    later = first_patch_running(istio[:2], gateway_api)
    if later is not None and later > istio[2]:
        reason += f" (Istio {format_version((*istio[:2], later))} and later run it)"
    return reason


def gateway_api_install_url(version: str) -> str:
    return GATEWAY_API_STANDARD_INSTALL_URL.format(version=version)
