"""Which cluster: the provider's recorded inputs are the same on every machine, and every script reaches the
cluster the provider reaches (components/cluster.py, scripts/lib/kube.sh)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.conftest import Evaluate
from tests.stubs import Stubs
from tools.mock_engine import Evaluation, evaluate, is_secret, unwrap

COMMAND = "command:local:Command"
KUBECONFIG_CONTENT = "apiVersion: v1\nkind: Config\ncurrent-context: lab\n"


def provider_of(evaluation: Evaluation, name: str = "homelab") -> Any:
    (provider,) = [p for p in evaluation.of_type("pulumi:providers:kubernetes") if p.name == name]
    return provider


def provider_reference(registration: Any) -> str:
    return registration.provider.rpartition("::")[0] if registration.provider else ""


def scripts_of(evaluation: Evaluation) -> list[Any]:
    commands = evaluation.of_type(COMMAND)
    assert len(commands) >= 5, "the guard, the webhook wait, the un-enrols, the verification and the front door"
    return commands


class TestProviderInputs:
    def test_hold_no_machine_local_path(self, monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.setenv("KUBECONFIG", "/home/alice/.kube/homelab.yaml")
        provider = provider_of(evaluate("homelab"))
        assert provider.inputs["kubeconfig"] == ""
        assert "/home/alice" not in repr(provider.request.object)

    def test_two_machines_with_different_kubeconfigs_record_the_same_provider(
        self, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        monkeypatch.setenv("KUBECONFIG", "/home/alice/.kube/config")
        workstation = provider_of(evaluate("homelab")).inputs
        monkeypatch.setenv("KUBECONFIG", "/runner/_temp/kubeconfig")
        ci = provider_of(evaluate("homelab")).inputs
        assert workstation == ci

    def test_upsert_is_off_even_when_the_environment_asks_for_it(self, monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.setenv("PULUMI_K8S_UPSERT_EXISTING_OBJECTS", "true")
        assert provider_of(evaluate("homelab")).inputs["upsertExistingObjects"] == "false"

    def test_only_the_retained_gateway_api_crds_may_take_existing_objects(self, homelab: Evaluation) -> None:
        """Their own provider upserts and forces field ownership: CRDs applied by hand at the configured
        release are taken (the live check refuses any other owner), and as they are retained on delete, a
        create-then-delete can never remove them. Every other custom resource uses the main provider."""
        main, crds = provider_of(homelab), provider_of(homelab, "gateway-api-crds")
        assert (main.inputs["upsertExistingObjects"], main.inputs["enablePatchForce"]) == ("false", "false")
        assert (crds.inputs["upsertExistingObjects"], crds.inputs["enablePatchForce"]) == ("true", "true")
        for key in ("context", "kubeconfig", "clusterIdentifier"):
            assert crds.inputs.get(key) == main.inputs.get(key), key
        config_file = homelab.named("istio-gateway-api-standard-crds")
        assert provider_reference(config_file) == crds.urn and config_file.retain_on_delete
        others = [
            r
            for r in homelab.registrations.values()
            if r.custom and r.type.startswith("kubernetes:") and r is not config_file
        ]
        assert others and all(provider_reference(r) == main.urn for r in others)

    def test_the_cluster_identifier_comes_from_the_stack(self, run: Evaluate) -> None:
        assert provider_of(run()).inputs["clusterIdentifier"] == "default"
        assert provider_of(run(overrides={"clusterIdentifier": "rack-1"})).inputs["clusterIdentifier"] == "rack-1"


class TestScriptsReachTheProvidersCluster:
    @pytest.mark.parametrize(
        "overrides",
        [{}, {"kubeContext": ""}, {"kubeContext": "admin@k3s"}],
        ids=["homelab-context", "current-context", "other-context"],
    )
    def test_every_script_gets_the_providers_context(self, run: Evaluate, overrides: dict[str, Any]) -> None:
        evaluation = run(overrides=overrides)
        context = provider_of(evaluation).inputs.get("context")
        for command in scripts_of(evaluation):
            assert command.inputs["environment"].get("KUBE_CONTEXT") == context, command.name
            assert "KUBECONFIG_DATA" not in command.inputs["environment"], command.name

    def test_a_stack_kubeconfig_reaches_the_provider_and_every_script_as_a_secret(self, run: Evaluate) -> None:
        evaluation = run(secrets={"kubernetes:kubeconfig": KUBECONFIG_CONTENT})
        kubeconfig = provider_of(evaluation).inputs["kubeconfig"]
        assert is_secret(kubeconfig) and unwrap(kubeconfig) == KUBECONFIG_CONTENT
        for command in scripts_of(evaluation):
            # The SDK marks the whole environment secret once a value in it is.
            environment = command.inputs["environment"]
            assert is_secret(environment), command.name
            assert unwrap(environment)["KUBECONFIG_DATA"] == KUBECONFIG_CONTENT, command.name

    def test_the_starter_stack_too(self, run: Evaluate) -> None:
        starter = run(stack="starter", stack_file=Path(__file__).resolve().parent.parent / "stacks" / "starter.yaml")
        for command in scripts_of(starter):
            assert command.inputs["environment"]["KUBE_CONTEXT"] == "kind-kind", command.name


class TestBadInput:
    @pytest.mark.parametrize(
        ("value", "problem"),
        [
            ("", 'homelab-mesh:clusterIdentifier: "" is not a cluster name'),
            (["a"], 'homelab-mesh:clusterIdentifier: must be a string naming the cluster, got ["a"]'),
            ({"name": "a"}, "homelab-mesh:clusterIdentifier: must be a string naming the cluster"),
            ("two words", 'homelab-mesh:clusterIdentifier: "two words" is not a cluster name'),
        ],
        ids=["empty", "list", "map", "space"],
    )
    def test_cluster_identifier(self, config_error: Any, value: Any, problem: str) -> None:
        (message,) = config_error(overrides={"clusterIdentifier": value}).problems
        assert message.startswith(problem)

    def test_kubernetes_context_is_refused_for_kube_context(self, config_error: Any) -> None:
        (message,) = config_error(overrides={"kubernetes:context": "lab"}).problems
        assert message.startswith("kubernetes:context:") and "homelab-mesh:kubeContext" in message

    def test_a_kubeconfig_content_in_plain_text_is_refused(self, config_error: Any) -> None:
        (message,) = config_error(overrides={"kubernetes:kubeconfig": KUBECONFIG_CONTENT}).problems
        assert message.startswith("kubernetes:kubeconfig:") and "--secret" in message

    def test_a_kubeconfig_path_may_be_plain(self, run: Evaluate) -> None:
        provider = provider_of(run(overrides={"kubernetes:kubeconfig": "~/.kube/homelab"}))
        assert unwrap(provider.inputs["kubeconfig"]) == "~/.kube/homelab"


# --- scripts/lib/kube.sh, under bash and dash ----------------------------------------------------------------

# A kubectl that notes which kubeconfig it was given, and its content when it is a file.
SEEN = (
    'printf "%s\\n" "${KUBECONFIG:-unset}" >> "$HOME/kubeconfig.seen"\n'
    'if [ -f "${KUBECONFIG:-/nonexistent}" ]; then cat "$KUBECONFIG" >> "$HOME/kubeconfig.seen"; fi\n'
    "echo ok\n"
)


def run_unenrol(stubs: Stubs, **environment: str) -> list[str]:
    stubs.add_script("kubectl", SEEN)
    result = stubs.run("unenrol-namespace.sh", NAMESPACE="demo-apps", **environment)
    assert result.status == 0, result.stderr
    return (stubs.home / "kubeconfig.seen").read_text().splitlines()


def test_kubeconfig_content_is_written_to_a_private_file_and_removed(stubs: Stubs) -> None:
    seen = run_unenrol(stubs, KUBECONFIG_DATA=KUBECONFIG_CONTENT)
    path = Path(seen[0])
    assert seen[1:4] == KUBECONFIG_CONTENT.splitlines()
    assert not path.exists(), "the kubeconfig copy outlived the script"


def test_a_kubeconfig_path_is_used_as_it_is_and_home_expanded(stubs: Stubs) -> None:
    (stubs.home / "lab.yaml").write_text(KUBECONFIG_CONTENT)
    seen = run_unenrol(stubs, KUBECONFIG_DATA="~/lab.yaml")
    assert seen[0] == str(stubs.home / "lab.yaml")
    assert (stubs.home / "lab.yaml").exists()


def test_without_a_stack_kubeconfig_kubectl_reads_the_ambient_one(stubs: Stubs) -> None:
    seen = run_unenrol(stubs, KUBECONFIG="/etc/ambient.yaml")
    assert seen[0] == "/etc/ambient.yaml"


def test_every_script_that_sets_its_own_exit_trap_still_removes_the_kubeconfig_copy() -> None:
    """A script's own `trap ... EXIT` replaces kube.sh's: it must call kube_cleanup itself."""
    from homelab_mesh.scripts import SCRIPTS

    for path in sorted(SCRIPTS.glob("*.sh")):
        for line in path.read_text().splitlines():
            if line.startswith("trap ") and line.rstrip().endswith(" EXIT"):
                assert "kube_cleanup" in line, f"{path.name}: {line}"


def test_the_inspection_removes_the_kubeconfig_copy_too(stubs: Stubs) -> None:
    stubs.add_script("kubectl", SEEN)
    result = stubs.run("inspect-cluster.sh", KUBECONFIG_DATA=KUBECONFIG_CONTENT, MODE="report", RELEASES="", OBJECTS="")
    assert result.status == 0, result.stderr
    copy = Path((stubs.home / "kubeconfig.seen").read_text().splitlines()[0])
    assert copy.name != "unset" and not copy.exists()
