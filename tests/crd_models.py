"""Upstream CRD and Kubernetes schemas as models (cloudcoil, requirements-dev.txt), imported on first use.

Each package builds thousands of pydantic classes when imported (about 2.5 s for the Kubernetes models, as
much for the Prometheus Operator's): imported at the top of a test module, every test worker would pay for
them while collecting. The tests that use them share one xdist group (`CRD_MODELS`), so one worker does.
A missing package fails those tests, never skips them.
"""

from types import ModuleType

import pytest

CRD_MODELS = pytest.mark.xdist_group("crd-models")


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
