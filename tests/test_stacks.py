"""Every stack file in the repository evaluates: a broken Pulumi.<stack>.yaml fails CI, not `pulumi up`."""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

import pytest
import yaml
from homelab_mesh.settings import KNOWN_KEYS, ConfigError

from tools.mock_engine import Evaluation, evaluate

ROOT = Path(__file__).resolve().parent.parent
PROJECT = yaml.safe_load((ROOT / "Pulumi.yaml").read_text())["name"]
STACK_FILES = sorted(ROOT.glob("Pulumi.*.yaml"))
ISTIO_RELEASES = {"istio-base", "istiod", "istio-cni", "ztunnel"}


def stack_name(path: Path) -> str:
    return path.name.removeprefix("Pulumi.").removesuffix(".yaml")


def declared_config(path: Path) -> dict[str, Any]:
    return (yaml.safe_load(path.read_text()) or {}).get("config") or {}


@cache
def evaluated(path: Path) -> Evaluation:
    """Each stack evaluated once for the whole module (a failing one again by each test, which then fails)."""
    return evaluate(stack_name(path))


def test_the_repository_has_the_homelab_and_dev_stacks() -> None:
    assert {"homelab", "dev"} <= {stack_name(path) for path in STACK_FILES}


@pytest.mark.parametrize("path", STACK_FILES, ids=stack_name)
def test_every_declared_key_is_a_setting_of_the_program(path: Path) -> None:
    unknown = [key for key in declared_config(path) if key.removeprefix(f"{PROJECT}:") not in KNOWN_KEYS]
    assert unknown == [], f"{path.name} sets keys this program does not read"


@pytest.mark.parametrize("path", STACK_FILES, ids=stack_name)
def test_the_stack_evaluates_without_errors(path: Path) -> None:
    try:
        evaluation = evaluated(path)
    except ConfigError as error:
        pytest.fail(f"{path.name}: {error}")
    assert evaluation.registrations
    assert [message for level, message in evaluation.logs if level == "error"] == []


@pytest.mark.parametrize("path", STACK_FILES, ids=stack_name)
def test_the_stack_installs_the_four_istio_releases(path: Path) -> None:
    evaluation = evaluated(path)
    releases = {registration.inputs["name"] for registration in evaluation.of_type("kubernetes:helm.sh/v3:Release")}
    assert releases >= ISTIO_RELEASES


@pytest.mark.parametrize("path", STACK_FILES, ids=stack_name)
def test_the_stack_deploys_to_its_own_kube_context(path: Path) -> None:
    evaluation = evaluated(path)
    context = declared_config(path).get(f"{PROJECT}:kubeContext")
    providers = evaluation.of_type("pulumi:providers:kubernetes")
    assert providers
    assert {provider.inputs.get("context") for provider in providers} == {context}
