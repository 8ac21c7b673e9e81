"""Pinned versions, chart locations and the Istio <-> Gateway API compatibility table."""

from __future__ import annotations

import re

DEFAULT_ISTIO_VERSION = "1.28.2"
DEFAULT_GATEWAY_API_VERSION = "v1.4.1"
DEFAULT_METALLB_VERSION = "0.15.3"

# The storage.googleapis.com / gcr.io locations are retired in December 2026 (istio/istio#61467).
DEFAULT_ISTIO_CHART_REPOSITORY = "https://blob.istio.io/istio-release/charts"
DEFAULT_ISTIO_HUB = "docker.io/istio"
DEFAULT_METALLB_CHART_REPOSITORY = "https://metallb.github.io/metallb"

GATEWAY_API_STANDARD_INSTALL_URL = (
    "https://github.com/kubernetes-sigs/gateway-api/releases/download/{version}/standard-install.yaml"
)

SEMVER = re.compile(r"^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)$")

Version = tuple[int, int, int]

# Gateway API releases each Istio minor can run: [lowest, first-unsupported).
# Istio <= 1.29 never becomes Ready once Gateway API >= 1.5 CRDs are installed (istio/istio#59443);
# Istio 1.30 is built against 1.5 and needs it (istio/istio.io#17394).
GATEWAY_API_SUPPORT: dict[tuple[int, int], tuple[Version, Version]] = {
    (1, 28): ((1, 4, 0), (1, 5, 0)),
    (1, 29): ((1, 4, 0), (1, 5, 0)),
    (1, 30): ((1, 5, 0), (1, 7, 0)),
}


def parse_version(text: str) -> Version | None:
    """`1.28.2` or `v1.4.1` -> (1, 28, 2); None when it is not a plain release version."""
    match = SEMVER.match(text[1:] if text.startswith("v") else text)
    if match is None:
        return None
    major, minor, patch = (int(part) for part in match.groups())
    return major, minor, patch


def format_version(version: Version) -> str:
    return ".".join(str(part) for part in version)


def gateway_api_incompatibility(istio: Version, gateway_api: Version) -> str | None:
    """Why this Istio release cannot run with these Gateway API CRDs, or None when it can."""
    supported = GATEWAY_API_SUPPORT.get(istio[:2])
    if supported is None:
        known = ", ".join(f"{major}.{minor}" for major, minor in sorted(GATEWAY_API_SUPPORT))
        return (
            f"Istio {istio[0]}.{istio[1]} is not in the compatibility table "
            f"(known minors: {known}); add it to components/versions.py once its Gateway API range is known"
        )
    lowest, first_unsupported = supported
    if lowest <= gateway_api < first_unsupported:
        return None
    return (
        f"Istio {format_version(istio)} runs with Gateway API v{format_version(lowest)} up to, "
        f"not including, v{format_version(first_unsupported)}; "
        f"v{format_version(gateway_api)} is outside that range (istio/istio#59443)"
    )


def gateway_api_install_url(version: str) -> str:
    return GATEWAY_API_STANDARD_INSTALL_URL.format(version=version)
