"""Taking over a cluster other tools set up: `adoptExisting` and the gateway address hand-over."""

from __future__ import annotations

import json
from dataclasses import dataclass

from .checks import RFC1123_LABEL
from .reader import Reader

SCALAR_KEYS = ("adoptExisting", "handoverFrom")


@dataclass(frozen=True)
class AdoptionSettings:
    # Take over what istioctl, `helm template` (Argo CD) or Helm left: Helm's take-ownership on the releases
    # whose objects exist, imports of existing Helm releases and of the namespaces the stack creates.
    adopt_existing: bool = False
    # `<namespace>/<name>` of the LoadBalancer Service that holds gatewayAddress today (the classic
    # istio-ingressgateway); removed once the stack's Gateway answers, so that the address moves to it.
    handover_from: str | None = None


def check_service_reference(value: str) -> str:
    """`<namespace>/<name>` of a Service."""
    namespace, _, name = value.partition("/")
    if not (namespace and name and all(RFC1123_LABEL.match(part) for part in (namespace, name))):
        raise ValueError(f"{json.dumps(value)} is not <namespace>/<service>, e.g. istio-gateway/istio-ingressgateway")
    return value


def read_adoption(reader: Reader, gateway_address: str | None, metallb_enabled: bool) -> AdoptionSettings:
    adopt = reader.boolean("adoptExisting", False)
    handover = reader.text("handoverFrom", "").strip()
    if not handover:
        return AdoptionSettings(adopt_existing=adopt)
    checked = reader.check("handoverFrom", check_service_reference, handover)
    if checked is not None and (not gateway_address or not metallb_enabled):
        reader.fail(
            "handoverFrom",
            "hands gatewayAddress over from another MetalLB Service: it needs gatewayAddress and metallbEnabled: true",
        )
    return AdoptionSettings(adopt_existing=adopt, handover_from=handover)
