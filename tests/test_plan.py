"""tools/plan.py: waves and rendering as pure functions, the homelab plan, and the command itself."""

from __future__ import annotations

import contextlib
import io
import re
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml

from tests.certificates import homelab_pem
from tools import plan, plan_graph, plan_render
from tools.mock_engine import Evaluation

ROOT = Path(__file__).resolve().parent.parent
PLAN_DOC = ROOT / "docs" / "testing.md"
# A real certificate and key: provided mode parses them.
PROVIDED = homelab_pem()
PEM_KEY_BODY = PROVIDED.key_body
PROVIDED_KEY = PROVIDED.private_key
PROVIDED_CERTIFICATE = PROVIDED.certificate
ISTIO_INSTALL_ORDER = ("istio-base", "istiod", "istio-cni", "ztunnel")

#   base ── istiod ── cni ── ztunnel        crds ── istiod; base ── ztunnel is implied by the chain
SMALL_GRAPH: dict[str, set[str]] = {
    "base": set(),
    "crds": set(),
    "istiod": {"base", "crds"},
    "cni": {"istiod"},
    "ztunnel": {"cni", "base"},
}


class TestWaves:
    def test_a_node_is_one_wave_after_its_latest_dependency(self) -> None:
        assert plan_graph.compute_waves(SMALL_GRAPH) == {"base": 1, "crds": 1, "istiod": 2, "cni": 3, "ztunnel": 4}

    def test_an_empty_graph_has_no_waves(self) -> None:
        assert plan_graph.compute_waves({}) == {}

    def test_a_cycle_is_rejected(self) -> None:
        with pytest.raises(ValueError, match="cycle"):
            plan_graph.compute_waves({"a": {"b"}, "b": {"a"}})

    def test_a_dependency_outside_the_graph_is_rejected(self) -> None:
        with pytest.raises(ValueError, match="ghost"):
            plan_graph.compute_waves({"a": {"ghost"}})

    def test_transitive_reduction_drops_only_implied_edges(self) -> None:
        reduced = plan_graph.transitive_reduction(SMALL_GRAPH)
        assert reduced["ztunnel"] == {"cni"}
        assert reduced["istiod"] == {"base", "crds"}
        assert plan_graph.compute_waves(reduced) == plan_graph.compute_waves(SMALL_GRAPH)


class TestMermaid:
    def test_waves_are_subgraphs_and_edges_point_at_dependents(self) -> None:
        labels = {"ns": "Namespace istio-system", "base": "Release istio-base", "istiod": "Release istiod"}
        dependencies = {"ns": set(), "base": {"ns"}, "istiod": {"base"}}
        text = plan_graph.render_mermaid(labels, dependencies, plan_graph.compute_waves(dependencies))
        lines = text.splitlines()
        assert lines[0] == "flowchart LR"
        assert '  subgraph wave1["Wave 1"]' in lines
        assert '    Namespace_istio_system["Namespace istio-system"]' in lines
        assert "  Namespace_istio_system --> Release_istio_base" in lines
        assert "  Release_istio_base --> Release_istiod" in lines
        assert [line for line in lines if "subgraph" in line] == [
            '  subgraph wave1["Wave 1"]',
            '  subgraph wave2["Wave 2"]',
            '  subgraph wave3["Wave 3"]',
        ]

    def test_node_ids_are_sanitized_and_unique(self) -> None:
        ids = plan_graph.node_ids({"a": "Secret tls.demo", "b": "Secret tls-demo", "c": "Release end"})
        assert set(ids.values()) == {"Secret_tls_demo", "Secret_tls_demo_2", "Release_end"}
        assert all(re.fullmatch(r"\w+", node_id, flags=re.ASCII) for node_id in ids.values())

    def test_only_the_marked_mermaid_block_of_a_document_is_replaced(self) -> None:
        markdown = (
            "# Plan\n\n```mermaid\nflowchart LR\n  hand-drawn\n```\n\n"
            f"{plan_graph.GRAPH_MARKER}\n```mermaid\nflowchart LR\n  old\n```\n\nafter\n"
        )
        assert plan_graph.replace_mermaid_block(markdown, "flowchart LR\n  new\n") == markdown.replace("  old", "  new")
        with pytest.raises(ValueError, match="mermaid"):
            plan_graph.replace_mermaid_block("```mermaid\nflowchart LR\n```\n", "flowchart LR\n")


class TestHomelabPlan:
    def test_istio_installs_in_order_base_istiod_cni_ztunnel(self, homelab: Evaluation) -> None:
        waves = plan_graph.resource_graph(homelab).waves
        base, istiod, cni, ztunnel = (waves[homelab.release(name).urn] for name in ISTIO_INSTALL_ORDER)
        assert base < istiod < cni < ztunnel

    def test_the_graph_holds_deployed_resources_only(self, homelab: Evaluation) -> None:
        labels = plan_graph.resource_graph(homelab).labels.values()
        assert "ConfigFile istio-gateway-api-standard-crds" in labels
        assert "Release istio-istiod" in labels
        assert not any(label.startswith(("IstioAmbient ", "MetalLB ", "kubernetes ")) for label in labels)

    def test_the_gateway_waits_for_the_crds_through_istiod(self, homelab: Evaluation) -> None:
        graph = plan_graph.resource_graph(homelab)
        crds, gateway = homelab.named("istio-gateway-api-standard-crds").urn, homelab.named("ingress-gateway").urn
        assert graph.waves[crds] < graph.waves[homelab.named("istio-istiod").urn] < graph.waves[gateway]

    def test_objects_are_kubernetes_manifests_without_helm_releases(self, homelab: Evaluation) -> None:
        text, count = plan_render.render_objects(homelab, plan_graph.resource_graph(homelab))
        manifests = [document for document in yaml.safe_load_all(text) if document]
        assert len(manifests) == count
        assert all(set(manifest) >= {"apiVersion", "kind", "metadata"} for manifest in manifests)
        assert "status" not in {key for manifest in manifests for key in manifest}
        kinds = {manifest["kind"] for manifest in manifests}
        assert {"Namespace", "Secret", "Gateway", "HTTPRoute", "IPAddressPool"} <= kinds
        assert kinds.isdisjoint({"Release", "ConfigFile"})

    def test_the_private_ca_keys_never_reach_objects_yaml(self, homelab: Evaluation) -> None:
        text, _ = plan_render.render_objects(homelab, plan_graph.resource_graph(homelab))
        assert "PRIVATE KEY" not in text
        assert "mock-key-" not in text
        secret = next(doc for doc in yaml.safe_load_all(text) if doc and doc["kind"] == "Secret")
        assert secret["stringData"] == {"tls.crt": plan_render.SECRET, "tls.key": plan_render.SECRET}

    def test_a_provided_private_key_never_reaches_objects_yaml(self, run: Callable[..., Evaluation]) -> None:
        provided = run(
            overrides={"tlsMode": "provided", "caValidityDays": None},
            secrets={"tlsCertificate": PROVIDED_CERTIFICATE, "tlsPrivateKey": PROVIDED_KEY},
        )
        text, _ = plan_render.render_objects(provided, plan_graph.resource_graph(provided))
        assert PEM_KEY_BODY not in text
        assert "PRIVATE KEY" not in text

    def test_releases_list_chart_version_repository_namespace_values(self, homelab: Evaluation) -> None:
        text, _ = plan_render.render_releases(homelab, plan_graph.resource_graph(homelab))
        releases = {release["name"]: release for release in yaml.safe_load(text)}
        assert set(releases) == {"istio-base", "istiod", "istio-cni", "ztunnel", "metallb"}
        istiod = releases["istiod"]
        assert istiod["chart"] == "istiod"
        assert istiod["version"] == "1.28.2"
        assert istiod["repository"] == "https://blob.istio.io/istio-release/charts"
        assert istiod["namespace"] == "istio-system"
        assert istiod["values"]["profile"] == "ambient"
        assert istiod["values"]["replicaCount"] == 1

    def test_docs_embed_the_current_homelab_graph(self, homelab: Evaluation) -> None:
        embedded = plan_graph.embedded_diagram(PLAN_DOC.read_text())
        assert embedded is not None, f"{PLAN_DOC} has no ```mermaid block after {plan_graph.GRAPH_MARKER}"
        assert embedded == plan_graph.graph_diagram(plan_graph.resource_graph(homelab)), (
            "docs/testing.md's plan graph is stale; regenerate it with "
            "python -m tools.plan --stack homelab --out plan/homelab --markdown docs/testing.md"
        )


BROKEN_FILES = {
    "syntax-error": "config:\n  homelab-mesh:platform: [k3s\n",
    "tab": "config:\n\thomelab-mesh:platform: k3s\n",
    "list-root": "# not a mapping\n- config: {}\n",
    "duplicate-key": "config:\n  homelab-mesh:platform: k3s\n  homelab-mesh:platform: none\n",
}
BROKEN_EXPECTED = [
    ("syntax-error", ":3:1", "expected"),
    ("tab", ":2:1", "a tab character; YAML indents with spaces only"),
    ("list-root", ":2:1", "must be a mapping"),
    ("duplicate-key", ":3:3", "duplicate key"),
]


@dataclass(frozen=True)
class BrokenRun:
    stack_file: Path
    out: Path
    result: subprocess.CompletedProcess[str]


def plan_in_process(*arguments: str) -> subprocess.CompletedProcess[str]:
    """The command's main() with its output captured: what a user's process would print and return. An
    uncaught exception (a traceback for the user) fails the calling test."""
    stdout, stderr = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(stdout), contextlib.redirect_stderr(stderr):
        status = plan.main(list(arguments))
    return subprocess.CompletedProcess(["tools.plan", *arguments], status, stdout.getvalue(), stderr.getvalue())


@pytest.fixture(scope="module")
def broken_runs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, BrokenRun]:
    """`tools.plan --config <broken file>` for each broken file."""
    runs = {}
    for case, text in BROKEN_FILES.items():
        directory = tmp_path_factory.mktemp(case)
        stack_file = directory / "Pulumi.broken.yaml"
        stack_file.write_text(text)
        out = directory / "plan"
        runs[case] = BrokenRun(stack_file, out, plan_in_process("--config", str(stack_file), "--out", str(out)))
    return runs


def run_plan(*arguments: str) -> subprocess.CompletedProcess[str]:
    """The command as a user runs it, in a fresh process."""
    return subprocess.run(
        [sys.executable, "-m", "tools.plan", *arguments],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


class TestSummary:
    def test_a_fixed_gateway_address_is_known_before_the_deploy(self, homelab: Evaluation) -> None:
        assert plan_render.gateway_address(homelab) == "192.168.1.240 (gatewayAddress)"

    def test_without_a_fixed_address_metallb_picks_one(self, run: Callable[..., Evaluation]) -> None:
        assert "MetalLB" in plan_render.gateway_address(run({"gatewayAddress": None}))

    def test_outputs_made_at_deploy_are_not_shown_as_mock_values(self, homelab: Evaluation) -> None:
        shown = dict(plan_render.known_outputs(homelab))
        assert shown["urls"] == "https://demo-app1.local/, https://harbor.local/"
        assert "BEGIN CERTIFICATE" not in shown["caCertificatePem"]
        assert "192.0.2.10" not in shown["gatewayAddress"]

    def test_one_line_per_wave_holding_each_resource_once(self, homelab: Evaluation) -> None:
        graph = plan_graph.resource_graph(homelab)
        lines = plan_render.wave_lines(graph)
        assert len(lines) == max(graph.waves.values())
        assert lines[0].startswith("wave 1 (")
        listed = [label for line in lines for label in line.split(": ", 1)[1].split(", ")]
        assert sorted(listed) == sorted(graph.labels.values())

    def test_kind_counts_add_up_to_the_deployed_resources(self, homelab: Evaluation) -> None:
        graph = plan_graph.resource_graph(homelab)
        counts = dict(plan_render.kind_counts(graph))
        assert sum(counts.values()) == len(graph.labels)
        assert counts["Release"] == 5


class TestCommand:
    def test_writes_the_plan_with_a_progress_line_per_stage(self, tmp_path: Path, homelab: Evaluation) -> None:
        out = tmp_path / "homelab"
        result = run_plan("--stack", "homelab", "--out", str(out))
        assert result.returncode == 0, result.stderr
        lines = result.stdout.splitlines()
        stages = lines[:5]
        assert [line.split(" ", 1)[0] for line in stages] == ["[1/5]", "[2/5]", "[3/5]", "[4/5]", "[5/5]"]
        for stage, words in zip(stages, ("loading config", "evaluating", "objects", "releases", "graph"), strict=True):
            assert words in stage
        objects = (out / "objects.yaml").read_text()
        assert "PRIVATE KEY" not in objects
        assert any(doc and doc["kind"] == "Gateway" for doc in yaml.safe_load_all(objects))
        assert len(yaml.safe_load((out / "releases.yaml").read_text())) == 5
        assert (out / "graph.mmd").read_text().startswith("flowchart LR\n")
        assert ["gatewayAddress", "192.168.1.240", "(gatewayAddress)"] in [line.split() for line in lines]
        waves = [line for line in lines if line.startswith("  wave ")]
        assert len(waves) == max(plan_graph.resource_graph(homelab).waves.values())

    def test_any_stack_file_can_be_planned_with_config(self, tmp_path: Path) -> None:
        stack_file = tmp_path / "elsewhere" / "my-cluster.yaml"
        stack_file.parent.mkdir()
        stack_file.write_text((ROOT / "stacks" / "starter.yaml").read_text())
        out = tmp_path / "plan"
        result = plan_in_process("--config", str(stack_file), "--out", str(out))
        assert result.returncode == 0, result.stderr
        assert f"loading config of stack my-cluster ... 7 keys in {stack_file}" in result.stdout
        kinds = {doc["kind"] for doc in yaml.safe_load_all((out / "objects.yaml").read_text()) if doc}
        assert {"Deployment", "Service", "HTTPRoute"} <= kinds
        assert "https://echo.home.arpa/" in result.stdout
        assert (out / "graph.mmd").exists()

    @pytest.mark.parametrize(
        ("case", "position", "problem"), BROKEN_EXPECTED, ids=[case for case, *_ in BROKEN_EXPECTED]
    )
    def test_a_broken_stack_file_fails_with_file_line_and_column(
        self, broken_runs: dict[str, BrokenRun], case: str, position: str, problem: str
    ) -> None:
        run = broken_runs[case]
        assert run.result.returncode == 1
        assert "Traceback" not in run.result.stderr
        assert run.result.stderr.startswith(f"error: {run.stack_file}{position}: ")
        assert problem in run.result.stderr
        assert "[1/5] loading config of stack broken ... failed" in run.result.stdout
        assert not run.out.exists()

    def test_a_broken_stack_file_prints_no_traceback_in_a_real_process(self, tmp_path: Path) -> None:
        stack_file = tmp_path / "Pulumi.broken.yaml"
        stack_file.write_text(BROKEN_FILES["syntax-error"])
        result = run_plan("--config", str(stack_file), "--out", str(tmp_path / "plan"))
        assert result.returncode == 1
        assert "Traceback" not in result.stderr
        assert result.stderr.startswith(f"error: {stack_file}:")

    def test_an_unknown_stack_names_the_stacks_there_are(self, capsys: pytest.CaptureFixture[str]) -> None:
        assert plan.main(["--stack", "staging", "--out", "unused"]) == 2
        error = capsys.readouterr().err
        assert "Pulumi.staging.yaml" in error
        assert "homelab" in error

    def test_a_config_error_fails_with_the_offending_key(self, tmp_path: Path) -> None:
        stack_file = tmp_path / "Pulumi.kind.yaml"
        stack_file.write_text("config:\n  homelab-mesh:platform: kind\n  homelab-mesh:metallbEnabled: false\n")
        result = plan_in_process("--config", str(stack_file), "--out", str(tmp_path / "plan"))
        assert result.returncode == 1
        assert "Traceback" not in result.stderr
        assert result.stderr.startswith("error: invalid stack configuration: homelab-mesh:platform: ")
        assert "[2/5] evaluating the program on the mock engine ... failed" in result.stdout
        assert not (tmp_path / "plan" / "objects.yaml").exists()

    def test_an_unexpected_error_is_one_line_unless_a_traceback_is_asked_for(
        self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
    ) -> None:
        def broken(*_: object) -> None:
            raise KeyError("surprise")

        monkeypatch.setattr(plan, "write_plan", broken)
        assert plan.main(["--stack", "homelab", "--out", str(tmp_path)]) == 1
        error = capsys.readouterr().err
        assert error.startswith("error: KeyError: 'surprise'")
        assert error.count("\n") == 1
        with pytest.raises(KeyError):
            plan.main(["--stack", "homelab", "--out", str(tmp_path), "--traceback"])


def test_kubernetes_objects_wait_for_what_their_provider_waits_for(homelab: Evaluation) -> None:
    """The provider depends on the upgrade guard, so every object it creates comes in a later wave."""
    graph = plan_graph.resource_graph(homelab)
    wave = {label: graph.waves[urn] for urn, label in graph.labels.items()}
    guard = wave["Command upgrade-guard-live-check"]
    assert wave["Namespace istio-namespace"] > guard
    assert wave["PriorityClass lan-load-balancer-speaker-priority"] > guard
    assert (
        wave["PrivateKey ingress-certificates-gateway-ca-key"] == 1
    )  # pulumi-tls objects do not use the Kubernetes provider
