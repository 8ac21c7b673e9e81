"""The demo app: a tiny echo workload behind the front door, so a first deploy ends with a page answering."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from .reader import Reader
from .routes import Route

SCALAR_KEYS = ("demoApp",)

DEMO_NAMESPACE = "demo-apps"
DEMO_SERVICE = "echo"
DEMO_SERVICE_PORT = 80


@dataclass(frozen=True)
class DemoAppSettings:
    namespace: str = DEMO_NAMESPACE
    service: str = DEMO_SERVICE
    port: int = DEMO_SERVICE_PORT


def read_demo_app(reader: Reader, meshed_names: Sequence[str], routes: Sequence[Route]) -> DemoAppSettings | None:
    """The demo app when `demoApp: true`; it runs in the mesh, so its namespace must be a meshed one, and
    routes to its Service must use the port it listens on."""
    if not reader.boolean("demoApp", False):
        return None
    if DEMO_NAMESPACE not in meshed_names:
        reader.fail(
            "demoApp",
            f"the demo app runs in namespace {DEMO_NAMESPACE}, which is not in meshedNamespaces; "
            f"add {DEMO_NAMESPACE} there (and route a hostname to service {DEMO_SERVICE} port {DEMO_SERVICE_PORT})",
        )
        return None
    for route in routes:
        for rule in route.rules:
            if route.namespace == DEMO_NAMESPACE and rule.service == DEMO_SERVICE and rule.port != DEMO_SERVICE_PORT:
                reader.fail(
                    "demoApp",
                    f"the route for {route.hostname} sends {rule.path} to {DEMO_SERVICE} port {rule.port}, "
                    f"but the demo app's Service listens on port {DEMO_SERVICE_PORT}",
                )
    return DemoAppSettings()
