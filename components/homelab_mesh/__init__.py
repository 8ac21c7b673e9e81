"""homelab-mesh: Istio ambient, MetalLB and a TLS Gateway API front door for a Kubernetes cluster, as Pulumi
components. The names below are the public API; everything else in the package is internal."""

from .cert_manager import CertManager, CertManagerArgs
from .cluster import Cluster
from .demo_app import DemoApp, DemoAppArgs
from .front_door import FrontDoorCheck, FrontDoorCheckArgs
from .gateway_api import GatewayApiCrds, GatewayApiCrdsArgs
from .handover import AddressHandover, AddressHandoverArgs
from .ingress import IngressGateway, IngressGatewayArgs
from .inspection import inspection_environment, read_adoption_plan
from .istio import IstioAmbient, IstioAmbientArgs
from .mesh_namespace import MeshedNamespace, MeshedNamespaceArgs
from .metallb import MetalLB, MetalLBArgs
from .monitoring import Monitoring, MonitoringArgs
from .names import GATEWAY_NAMESPACE
from .routes import HttpRoutes, HttpRoutesArgs
from .settings import ConfigError, Settings, load_settings
from .upgrade_guard import UpgradeGuard, UpgradeGuardArgs
from .verification import MeshVerification, MeshVerificationArgs

__version__ = "0.1.0"

__all__ = [
    "GATEWAY_NAMESPACE",
    "AddressHandover",
    "AddressHandoverArgs",
    "CertManager",
    "CertManagerArgs",
    "Cluster",
    "ConfigError",
    "DemoApp",
    "DemoAppArgs",
    "FrontDoorCheck",
    "FrontDoorCheckArgs",
    "GatewayApiCrds",
    "GatewayApiCrdsArgs",
    "HttpRoutes",
    "HttpRoutesArgs",
    "IngressGateway",
    "IngressGatewayArgs",
    "IstioAmbient",
    "IstioAmbientArgs",
    "MeshVerification",
    "MeshVerificationArgs",
    "MeshedNamespace",
    "MeshedNamespaceArgs",
    "MetalLB",
    "MetalLBArgs",
    "Monitoring",
    "MonitoringArgs",
    "Settings",
    "UpgradeGuard",
    "UpgradeGuardArgs",
    "inspection_environment",
    "load_settings",
    "read_adoption_plan",
]
