"""The end-to-end scenarios run only against the cluster E2E_KUBE_CONTEXT names, one after the other.

Without it (or without the pulumi CLI or kubectl) every test here is collected and skipped with the reason,
before any fixture runs: the normal suite pays for nothing but the collection of this folder.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from pathlib import Path

import pytest

from tests.e2e.harness import (
    DEFAULT_REPORT_DIR,
    ISTIOCTL_VARIABLE,
    REPORT_VARIABLE,
    Cluster,
    E2eSetupError,
    adoption_cluster_from_environment,
    adoption_skip_reason,
    cluster_from_environment,
    skip_reason,
)

HERE = Path(__file__).resolve().parent


def _in_this_folder(item: pytest.Item) -> bool:
    return HERE in Path(str(item.path)).resolve().parents


def _adopts(item: pytest.Item) -> bool:
    """The adoption scenario runs on a cluster of its own (the `adoption_cluster` fixture)."""
    return "adoption_cluster" in getattr(item, "fixturenames", ())


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    # A conftest's collection hook sees every item of the session: mark only this folder's.
    for item in items:
        if not _in_this_folder(item):
            continue
        reason = adoption_skip_reason(os.environ) if _adopts(item) else skip_reason(os.environ)
        if reason is not None:
            item.add_marker(pytest.mark.skip(reason=reason))


def _cluster_in_order(read: Callable[[Mapping[str, str]], Cluster]) -> Cluster:
    # The scenarios build on each other's clean-up in order: never spread over xdist workers.
    if os.environ.get("PYTEST_XDIST_WORKER"):
        pytest.fail(
            "the end-to-end scenarios share one cluster and run in order; run them without xdist: "
            "venv/bin/python -m pytest tests/e2e -n 0",
            pytrace=False,
        )
    try:
        return read(os.environ)
    except E2eSetupError as error:
        pytest.fail(str(error), pytrace=False)


@pytest.fixture(scope="session")
def cluster() -> Cluster:
    return _cluster_in_order(cluster_from_environment)


@pytest.fixture(scope="session")
def adoption_cluster() -> Cluster:
    """The adoption scenario's own cluster (E2E_ADOPTION_KUBE_CONTEXT)."""
    return _cluster_in_order(adoption_cluster_from_environment)


@pytest.fixture(scope="session")
def istioctl() -> str:
    return os.environ[ISTIOCTL_VARIABLE]


@pytest.fixture(scope="session")
def backend_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("pulumi-backend")


@pytest.fixture(scope="session")
def report_dir() -> Path:
    directory = Path(os.environ.get(REPORT_VARIABLE) or DEFAULT_REPORT_DIR)
    directory.mkdir(parents=True, exist_ok=True)
    return directory
