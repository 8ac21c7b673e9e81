"""Upstream CRD and Kubernetes schemas as models (cloudcoil, requirements-dev.txt), imported on first use.

Each package builds thousands of pydantic classes when imported (about 2.5 s for the Kubernetes models, as
much for the Prometheus Operator's): imported at the top of a test module, every test worker would pay for
them while collecting; imported here, only the worker that runs a test using them does. A missing package
fails those tests, never skips them.
"""

from types import ModuleType


def kubernetes(group_version: str) -> ModuleType:
    """The Kubernetes API's models of one group and version, e.g. `core.v1`, `policy.v1`."""
    import importlib

    return importlib.import_module(f"cloudcoil.models.kubernetes.{group_version}")


def prometheus_operator() -> ModuleType:
    from cloudcoil.models.prometheus_operator import v1

    return v1


def cert_manager() -> ModuleType:
    from cloudcoil.models.cert_manager import v1

    return v1
