"""The component package: the public components, hosted for every Pulumi language under `homelab-mesh`.

The SDK's component provider host infers the package schema from the components' annotations (pulumi 3.272.0,
pulumi/provider/experimental/analyzer.py) and constructs a component from the args another program sends,
handed over as a dict (component.py `construct`). components/__main__.py hosts them; components/schema.json is
the schema the same analysis gives offline (`venv/bin/python -m tools.schema`).
"""

from typing import Any

import pulumi
from pulumi.provider.experimental.analyzer import Analyzer
from pulumi.provider.experimental.schema import generate_schema

from .cert_manager import CertManager
from .demo_app import DemoApp
from .front_door import FrontDoorCheck
from .gateway_api import GatewayApiCrds
from .handover import AddressHandover
from .ingress import IngressGateway
from .issuer_check import IssuerCheck
from .istio import IstioAmbient
from .mesh_namespace import MeshedNamespace
from .metallb import MetalLB
from .monitoring import Monitoring
from .routes import HttpRoutes
from .upgrade_guard import UpgradeGuard
from .verification import MeshVerification

PACKAGE_NAME = "homelab-mesh"
COMPONENTS: tuple[type[pulumi.ComponentResource], ...] = (
    UpgradeGuard,
    AddressHandover,
    MetalLB,
    GatewayApiCrds,
    IstioAmbient,
    MeshedNamespace,
    DemoApp,
    CertManager,
    IssuerCheck,
    IngressGateway,
    HttpRoutes,
    Monitoring,
    MeshVerification,
    FrontDoorCheck,
)


def package_schema(version: str) -> dict[str, Any]:
    """The package schema, as the host would serve it, without the Pulumi CLI or an engine."""
    analysis = Analyzer(PACKAGE_NAME).analyze(list(COMPONENTS))
    schema = generate_schema(
        PACKAGE_NAME,
        version,
        None,
        analysis["component_definitions"],
        analysis["type_definitions"],
        analysis["dependencies"],
    )
    return schema.to_json()


def host(version: str) -> None:
    """Serve the components to the Pulumi engine (the plugin's entry point)."""
    from pulumi.provider.experimental import component_provider_host

    component_provider_host(components=list(COMPONENTS), name=PACKAGE_NAME, version=version)
