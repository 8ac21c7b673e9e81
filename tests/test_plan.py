"""tools/plan.py: waves and rendering as pure functions, the homelab plan, and the command itself."""

from __future__ import annotations

import re
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
import yaml

from tests.certificates import homelab_pem
from tools import plan
from tools.mock_engine import Evaluation, evaluate

ROOT = Path(__file__).resolve().parent.parent
PLAN_DOC = ROOT / "README.md"
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
        assert plan.compute_waves(SMALL_GRAPH) == {"base": 1, "crds": 1, "istiod": 2, "cni": 3, "ztunnel": 4}

    def test_an_empty_graph_has_no_waves(self) -> None:
        assert plan.compute_waves({}) == {}

    def test_a_cycle_is_rejected(self) -> None:
        with pytest.raises(ValueError, match="cycle"):
            plan.compute_waves({"a": {"b"}, "b": {"a"}})

    def test_a_dependency_outside_the_graph_is_rejected(self) -> None:
        with pytest.raises(ValueError, match="ghost"):
            plan.compute_waves({"a": {"ghost"}})

    def test_transitive_reduction_drops_only_implied_edges(self) -> None:
        reduced = plan.transitive_reduction(SMALL_GRAPH)
        assert reduced["ztunnel"] == {"cni"}
        assert reduced["istiod"] == {"base", "crds"}
        assert plan.compute_waves(reduced) == plan.compute_waves(SMALL_GRAPH)


class TestMermaid:
    def test_waves_are_subgraphs_and_edges_point_at_dependents(self) -> None:
        labels = {"ns": "Namespace istio-system", "base": "Release istio-base", "istiod": "Release istiod"}
        dependencies = {"ns": set(), "base": {"ns"}, "istiod": {"base"}}
        text = plan.render_mermaid(labels, dependencies, plan.compute_waves(dependencies))
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
        ids = plan.node_ids({"a": "Secret tls.demo", "b": "Secret tls-demo", "c": "Release end"})
        assert set(ids.values()) == {"Secret_tls_demo", "Secret_tls_demo_2", "Release_end"}
        assert all(re.fullmatch(r"\w+", node_id, flags=re.ASCII) for node_id in ids.values())

    def test_only_the_marked_mermaid_block_of_a_document_is_replaced(self) -> None:
        markdown = (
            "# Plan\n\n```mermaid\nflowchart LR\n  hand-drawn\n```\n\n"
            f"{plan.GRAPH_MARKER}\n```mermaid\nflowchart LR\n  old\n```\n\nafter\n"
        )
        assert plan.replace_mermaid_block(markdown, "flowchart LR\n  new\n") == markdown.replace("  old", "  new")
        with pytest.raises(ValueError, match="mermaid"):
            plan.replace_mermaid_block("```mermaid\nflowchart LR\n```\n", "flowchart LR\n")


class TestHomelabPlan:
    def test_istio_installs_in_order_base_istiod_cni_ztunnel(self, homelab: Evaluation) -> None:
        waves = plan.resource_graph(homelab).waves
        base, istiod, cni, ztunnel = (waves[homelab.named(name).urn] for name in ISTIO_INSTALL_ORDER)
        assert base < istiod < cni < ztunnel

    def test_the_graph_holds_deployed_resources_only(self, homelab: Evaluation) -> None:
        labels = plan.resource_graph(homelab).labels.values()
        assert "ConfigFile gateway-api-standard-crds" in labels
        assert "Release istiod" in labels
        assert not any(label.startswith(("IstioAmbient ", "MetalLB ", "kubernetes ")) for label in labels)

    def test_the_gateway_waits_for_the_crds_through_istiod(self, homelab: Evaluation) -> None:
        graph = plan.resource_graph(homelab)
        crds, gateway = homelab.named("gateway-api-standard-crds").urn, homelab.named("ingress-gateway").urn
        assert graph.waves[crds] < graph.waves[homelab.named("istiod").urn] < graph.waves[gateway]

    def test_objects_are_kubernetes_manifests_without_helm_releases(self, homelab: Evaluation) -> None:
        text, count = plan.render_objects(homelab, plan.resource_graph(homelab))
        manifests = [document for document in yaml.safe_load_all(text) if document]
        assert len(manifests) == count
        assert all(set(manifest) >= {"apiVersion", "kind", "metadata"} for manifest in manifests)
        assert "status" not in {key for manifest in manifests for key in manifest}
        kinds = {manifest["kind"] for manifest in manifests}
        assert {"Namespace", "Secret", "Gateway", "HTTPRoute", "IPAddressPool"} <= kinds
        assert kinds.isdisjoint({"Release", "ConfigFile"})

    def test_the_private_ca_keys_never_reach_objects_yaml(self, homelab: Evaluation) -> None:
        text, _ = plan.render_objects(homelab, plan.resource_graph(homelab))
        assert "PRIVATE KEY" not in text
        assert "mock-key-" not in text
        secret = next(doc for doc in yaml.safe_load_all(text) if doc and doc["kind"] == "Secret")
        assert secret["stringData"] == {"tls.crt": plan.SECRET, "tls.key": plan.SECRET}

    def test_a_provided_private_key_never_reaches_objects_yaml(self, run: Callable[..., Evaluation]) -> None:
        provided = run(
            overrides={"tlsMode": "provided"},
            secrets={"tlsCertificate": PROVIDED_CERTIFICATE, "tlsPrivateKey": PROVIDED_KEY},
        )
        text, _ = plan.render_objects(provided, plan.resource_graph(provided))
        assert PEM_KEY_BODY not in text
        assert "PRIVATE KEY" not in text

    def test_releases_list_chart_version_repository_namespace_values(self, homelab: Evaluation) -> None:
        text, _ = plan.render_releases(homelab, plan.resource_graph(homelab))
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
        embedded = plan.embedded_diagram(PLAN_DOC.read_text())
        assert embedded is not None, f"{PLAN_DOC} has no ```mermaid block after {plan.GRAPH_MARKER}"
        assert embedded == plan.graph_diagram(plan.resource_graph(homelab)), (
            "README.md's plan graph is stale; regenerate it with "
            "python -m tools.plan --stack homelab --out plan/homelab --markdown README.md"
        )


class TestCommand:
    def test_writes_the_plan_with_a_progress_line_per_stage(self, tmp_path: Path) -> None:
        out = tmp_path / "homelab"
        result = subprocess.run(
            [sys.executable, "-m", "tools.plan", "--stack", "homelab", "--out", str(out)],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        assert result.returncode == 0, result.stderr
        stages = result.stdout.splitlines()
        assert [line.split(" ", 1)[0] for line in stages] == ["[1/5]", "[2/5]", "[3/5]", "[4/5]", "[5/5]"]
        for stage, words in zip(stages, ("loading config", "evaluating", "objects", "releases", "graph"), strict=True):
            assert words in stage
        objects = (out / "objects.yaml").read_text()
        assert "PRIVATE KEY" not in objects
        assert any(doc and doc["kind"] == "Gateway" for doc in yaml.safe_load_all(objects))
        assert len(yaml.safe_load((out / "releases.yaml").read_text())) == 5
        assert (out / "graph.mmd").read_text().startswith("flowchart LR\n")

    def test_an_unknown_stack_names_the_stacks_there_are(self, capsys: pytest.CaptureFixture[str]) -> None:
        assert plan.main(["--stack", "staging", "--out", "unused"]) == 2
        error = capsys.readouterr().err
        assert "Pulumi.staging.yaml" in error
        assert "homelab" in error

    def test_a_config_error_fails_with_the_offending_key(
        self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
    ) -> None:
        monkeypatch.setattr(plan, "evaluate", lambda stack: evaluate(stack, overrides={"platform": "kind"}))
        assert plan.main(["--stack", "homelab", "--out", str(tmp_path)]) == 1
        captured = capsys.readouterr()
        assert "homelab-mesh:platform" in captured.err
        assert "[2/5] evaluating the program on the mock engine ... failed" in captured.out
        assert not (tmp_path / "objects.yaml").exists()
