"""homelab-mesh: Istio ambient, MetalLB and a TLS Gateway API front door for a Kubernetes cluster, as Pulumi
components. The names below are the public API; everything else in the package is internal."""

from .arguments import (
    AdoptionArgs,
    ClusterArgs,
    ComponentArgsError,
    PathMatch,
    QuantitiesArgs,
    ResourceProfileArgs,
    RouteArgs,
    RouteRuleArgs,
)
from .cert_manager import CertManager, CertManagerArgs
from .cluster import Cluster
from .demo_app import DemoApp, DemoAppArgs
from .front_door import FrontDoorCheck, FrontDoorCheckArgs
from .gateway_api import GatewayApiCrds, GatewayApiCrdsArgs
from .handover import AddressHandover, AddressHandoverArgs
from .ingress import IngressGateway, IngressGatewayArgs
from .inspection import inspection_environment, read_adoption_plan
from .issuer_check import IssuerCheck, IssuerCheckArgs
from .istio import IstioAmbient, IstioAmbientArgs, ManagedGatewayApiArgs, MtlsMode, Platform
from .mesh_namespace import (
    AllowFromArgs,
    AuthorizationRuleArgs,
    MeshedNamespace,
    MeshedNamespaceArgs,
    NamespaceOptionsArgs,
    NetworkPolicyMode,
)
from .metallb import AddressPoolArgs, MetalLB, MetalLBArgs
from .monitoring import Monitoring, MonitoringArgs
from .names import GATEWAY_NAMESPACE
from .routes import HttpRoutes, HttpRoutesArgs
from .settings import ConfigError, Settings, load_settings
from .tls_args import AcmeArgs, AcmeDnsProvider, AcmeSolverArgs, IssuerKind, TlsArgs, TlsIssuerArgs, TlsMode
from .upgrade import Order
from .upgrade_guard import GatewayApiCrdsOwner, UpgradeGuard, UpgradeGuardArgs
from .verification import MeshVerification, MeshVerificationArgs

__version__ = "0.1.0"

__all__ = [
    "GATEWAY_NAMESPACE",
    "AcmeArgs",
    "AcmeDnsProvider",
    "AcmeSolverArgs",
    "AddressHandover",
    "AddressHandoverArgs",
    "AddressPoolArgs",
    "AdoptionArgs",
    "AllowFromArgs",
    "AuthorizationRuleArgs",
    "CertManager",
    "CertManagerArgs",
    "Cluster",
    "ClusterArgs",
    "ComponentArgsError",
    "ConfigError",
    "DemoApp",
    "DemoAppArgs",
    "FrontDoorCheck",
    "FrontDoorCheckArgs",
    "GatewayApiCrds",
    "GatewayApiCrdsArgs",
    "GatewayApiCrdsOwner",
    "HttpRoutes",
    "HttpRoutesArgs",
    "IngressGateway",
    "IngressGatewayArgs",
    "IssuerCheck",
    "IssuerCheckArgs",
    "IssuerKind",
    "IstioAmbient",
    "IstioAmbientArgs",
    "ManagedGatewayApiArgs",
    "MeshVerification",
    "MeshVerificationArgs",
    "MeshedNamespace",
    "MeshedNamespaceArgs",
    "MetalLB",
    "MetalLBArgs",
    "Monitoring",
    "MonitoringArgs",
    "MtlsMode",
    "NamespaceOptionsArgs",
    "NetworkPolicyMode",
    "Order",
    "PathMatch",
    "Platform",
    "QuantitiesArgs",
    "ResourceProfileArgs",
    "RouteArgs",
    "RouteRuleArgs",
    "Settings",
    "TlsArgs",
    "TlsIssuerArgs",
    "TlsMode",
    "UpgradeGuard",
    "UpgradeGuardArgs",
    "inspection_environment",
    "load_settings",
    "read_adoption_plan",
]
