"""The end-to-end suite's plumbing, here without a cluster: when it skips, the stacks it configures (run on
the mock engine), what it copies, how it picks due certificates, a node to drain and what destroy left,
and the report it writes."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path
from typing import Any, ClassVar

import pytest
import yaml

from tests.e2e import harness
from tests.e2e import seed as seed_cluster
from tests.e2e.harness import (
    Cluster,
    E2eSetupError,
    StateResource,
    cluster_from_environment,
    skip_reason,
    stack_config,
)
from tests.e2e.report import ScenarioReport, markdown, read_reports
from tests.stubs import Reply, Stubs
from tools.load import Failure, LoadResult
from tools.mock_engine import Evaluation, evaluate

ROOT = Path(__file__).resolve().parent.parent
CLUSTER = Cluster("kind-e2e", "172.18.255.200-172.18.255.220")
POOL_TYPE = "kubernetes:metallb.io/v1beta1:IPAddressPool"


def on_path(*tools: str) -> Any:
    return lambda tool: f"/usr/bin/{tool}" if tool in tools else None


class TestSkip:
    def test_without_a_context_every_scenario_is_skipped_with_that_reason(self) -> None:
        reason = skip_reason({}, on_path("pulumi", "kubectl"))
        assert reason is not None and reason.startswith("E2E_KUBE_CONTEXT is not set")

    def test_without_the_pulumi_cli_they_are_skipped_naming_it(self) -> None:
        reason = skip_reason({"E2E_KUBE_CONTEXT": "kind-e2e"}, on_path("kubectl"))
        assert reason is not None and "pulumi CLI is not on PATH" in reason

    def test_without_kubectl_they_are_skipped_naming_it(self) -> None:
        reason = skip_reason({"E2E_KUBE_CONTEXT": "kind-e2e"}, on_path("pulumi"))
        assert reason is not None and "kubectl is not on PATH" in reason

    def test_with_a_context_and_both_tools_they_run(self) -> None:
        assert skip_reason({"E2E_KUBE_CONTEXT": "kind-e2e"}, on_path("pulumi", "kubectl")) is None

    def test_the_suite_collects_and_skips_them_cheaply(self) -> None:
        environment = {key: value for key, value in os.environ.items() if not key.startswith("E2E_")}
        began = time.monotonic()
        result = subprocess.run(
            [sys.executable, "-m", "pytest", "tests/e2e", "-n", "0", "-rs", "-q"],
            cwd=ROOT,
            env=environment,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        assert result.returncode == 0, result.stdout + result.stderr
        assert "SKIPPED [3] tests/e2e/test_scenarios.py: E2E_KUBE_CONTEXT is not set" in result.stdout
        assert "SKIPPED [1] tests/e2e/test_scenarios.py: E2E_ADOPTION_KUBE_CONTEXT is not set" in result.stdout
        assert time.monotonic() - began < 30


class TestCluster:
    def test_reads_the_context_pool_and_platform(self) -> None:
        cluster = cluster_from_environment(
            {"E2E_KUBE_CONTEXT": "k3d-lab", "E2E_ADDRESS_POOL": "172.19.0.200/29", "E2E_PLATFORM": "k3d"}
        )
        assert cluster == Cluster("k3d-lab", "172.19.0.200/29", "k3d")

    def test_the_platform_defaults_to_none(self) -> None:
        cluster = cluster_from_environment({"E2E_KUBE_CONTEXT": "kind-e2e", "E2E_ADDRESS_POOL": CLUSTER.address_pool})
        assert cluster.platform == "none"

    @pytest.mark.parametrize(
        ("pool", "complaint"),
        [("", "E2E_ADDRESS_POOL is not set"), ("172.18.0.300-172.18.0.310", "not an address range")],
    )
    def test_a_missing_or_bad_pool_is_refused_by_name(self, pool: str, complaint: str) -> None:
        with pytest.raises(E2eSetupError, match=complaint):
            cluster_from_environment({"E2E_KUBE_CONTEXT": "kind-e2e", "E2E_ADDRESS_POOL": pool})


def evaluate_config(tmp_path: Path, config: dict[str, Any], name: str = "e2e") -> Evaluation:
    """The program on the mock engine with a stack file written as the scenarios write theirs."""
    tmp_path.mkdir(parents=True, exist_ok=True)
    path = harness.write_stack_config(tmp_path, name, config)
    return evaluate(name, stack_file=path)


class TestStackConfig:
    def test_the_starter_on_the_named_cluster(self, tmp_path: Path) -> None:
        evaluation = evaluate_config(tmp_path, stack_config(CLUSTER))
        provider = evaluation.named("homelab")
        assert provider.inputs["context"] == "kind-e2e"
        starter_pool = yaml.safe_load((ROOT / "stacks" / "starter.yaml").read_text())["config"][
            "homelab-mesh:addressPools"
        ][0]["name"]
        [pool] = evaluation.of_type(POOL_TYPE)
        assert (pool.inputs["metadata"]["name"], pool.inputs["spec"]["addresses"]) == (
            starter_pool,
            [CLUSTER.address_pool],
        )
        # The scenarios' hostname is the starter's route, and the echo app answers behind it.
        from tests.e2e.test_scenarios import HOSTNAME

        assert evaluation.outputs["urls"] == [f"https://{HOSTNAME}/"]
        assert "demo-app" in evaluation.names()

    def test_the_upgrade_starts_from_the_pair_before_the_step(self, tmp_path: Path) -> None:
        evaluation = evaluate_config(tmp_path, stack_config(CLUSTER, istioVersion="1.30.5", gatewayApiVersion="v1.5.1"))
        assert (evaluation.outputs["istioVersion"], evaluation.outputs["gatewayApiVersion"]) == ("1.30.5", "v1.5.1")

    def test_a_renamed_pool_keeps_its_resource_and_its_range(self, tmp_path: Path) -> None:
        config = stack_config(CLUSTER, gatewayReplicas=2)
        renamed = {**config, "homelab-mesh:addressPools": harness.renamed_pools(config, "e2e-renamed")}
        before, after = evaluate_config(tmp_path / "before", config), evaluate_config(tmp_path / "after", renamed)
        [old], [new] = before.of_type(POOL_TYPE), after.of_type(POOL_TYPE)
        assert new.inputs["metadata"]["name"] == "e2e-renamed"
        assert new.inputs["spec"]["addresses"] == old.inputs["spec"]["addresses"]
        # The old pool's resource, aliased: replaced delete-first, never a second pool beside it.
        assert any(urn.endswith(f"::{old.name}") for urn in new.alias_urns)

    def test_none_removes_a_key(self) -> None:
        assert "homelab-mesh:demoApp" not in stack_config(CLUSTER, demoApp=None)

    def test_the_stack_file_keeps_what_stack_init_wrote(self, tmp_path: Path) -> None:
        path = tmp_path / "Pulumi.e2e.yaml"
        path.write_text("encryptionsalt: v1:abc\nconfig:\n  homelab-mesh:demoApp: true\n")
        harness.write_stack_config(tmp_path, "e2e", {"homelab-mesh:gatewayReplicas": 2})
        assert yaml.safe_load(path.read_text()) == {
            "encryptionsalt": "v1:abc",
            "config": {"homelab-mesh:gatewayReplicas": 2},
        }


def test_the_project_copy_has_the_program_and_none_of_the_checkouts_stacks(tmp_path: Path) -> None:
    copy = harness.copy_project(tmp_path / "project")
    assert (copy / "__main__.py").read_text() == (ROOT / "__main__.py").read_text()
    assert (copy / "Pulumi.yaml").exists() and (copy / "components" / "homelab_mesh" / "istio.py").exists()
    assert (copy / "components" / "homelab_mesh" / "scripts" / "check-front-door.sh").exists()
    assert sorted(path.name for path in copy.glob("Pulumi.*.yaml")) == []
    assert (copy / "venv").resolve() == (ROOT / "venv").resolve()
    assert not (copy / ".git").exists()


class TestRenewal:
    OUTPUTS: ClassVar[dict[str, Any]] = {
        "certificateExpiry": {"echo.home.arpa": "2027-12-01T00:00:00Z", "b.home.arpa": "2027-12-24T00:00:00Z"}
    }

    def test_forces_every_certificate_due_with_the_latest_end_of_validity(self) -> None:
        assert harness.expiry_of_the_last(self.OUTPUTS) == "2027-12-24T00:00:00Z"
        with pytest.raises(AssertionError, match="certificateExpiry"):
            harness.expiry_of_the_last({"gatewayAddress": "172.18.255.200"})

    def test_asks_renewal_due_for_urns_with_the_stack_outputs(self, tmp_path: Path) -> None:
        """Against a stand-in for tools/renewal_due.py that records its arguments and input."""
        seen = tmp_path / "seen.json"
        stand_in = tmp_path / "renewal_due.py"
        stand_in.write_text(
            "import json, sys\n"
            f"json.dump({{'argv': sys.argv[1:], 'stdin': json.load(sys.stdin)}}, open({str(seen)!r}, 'w'))\n"
            "print('urn:pulumi:e2e::homelab-mesh::tls:index/locallySignedCert:LocallySignedCert::a')\n"
            "print('urn:pulumi:e2e::homelab-mesh::tls:index/locallySignedCert:LocallySignedCert::b')\n"
            "sys.exit(3)\n"
        )
        urns = harness.due_certificate_urns(self.OUTPUTS, "2027-12-24T00:00:00Z", tool=stand_in)
        assert [urn.rsplit("::", 1)[1] for urn in urns] == ["a", "b"]
        assert json.loads(seen.read_text()) == {
            "argv": ["--urns", "--now", "2027-12-24T00:00:00Z", "-"],
            "stdin": self.OUTPUTS,
        }

    def test_an_unreadable_answer_fails_the_scenario(self, tmp_path: Path) -> None:
        stand_in = tmp_path / "renewal_due.py"
        stand_in.write_text("import sys\nprint('renewal_due: cannot read', file=sys.stderr)\nsys.exit(2)\n")
        with pytest.raises(AssertionError, match="exited 2: renewal_due: cannot read"):
            harness.due_certificate_urns(self.OUTPUTS, "2027-12-24T00:00:00Z", tool=stand_in)


def pod(node: str, phase: str = "Running") -> dict[str, Any]:
    return {"spec": {"nodeName": node}, "status": {"phase": phase}}


class TestDrain:
    def test_drains_a_gateway_node_without_the_backend(self) -> None:
        gateway = [pod("kind-worker"), pod("kind-worker2")]
        assert harness.node_to_drain(gateway, [pod("kind-worker")]) == "kind-worker2"

    def test_refuses_when_the_replicas_share_a_node(self) -> None:
        with pytest.raises(AssertionError, match="expected two nodes"):
            harness.node_to_drain([pod("kind-worker"), pod("kind-worker"), pod("kind-worker2", "Pending")], [])

    def test_refuses_when_the_backend_is_on_every_gateway_node(self) -> None:
        gateway = [pod("kind-worker"), pod("kind-worker2")]
        with pytest.raises(AssertionError, match="also runs the backend"):
            harness.node_to_drain(gateway, [pod("kind-worker"), pod("kind-worker2")])


class TestLeftovers:
    DEPLOYMENT: ClassVar[dict[str, Any]] = {
        "resources": [
            {
                "urn": "urn:a::istio-system",
                "type": harness.NAMESPACE_TYPE,
                "outputs": {"metadata": {"name": "istio-system"}},
            },
            {
                "urn": "urn:a::demo-apps",
                "type": harness.NAMESPACE_TYPE,
                "retainOnDelete": True,
                "inputs": {"metadata": {"name": "demo-apps"}},
            },
            {
                "urn": "urn:a::istiod",
                "type": harness.RELEASE_TYPE,
                "inputs": {"name": "istiod", "namespace": "istio-system"},
                "outputs": {"status": {"name": "istiod", "namespace": "istio-system"}},
            },
            {"urn": "urn:a::stack", "type": "pulumi:pulumi:Stack"},
        ]
    }

    def test_reads_the_exported_state(self) -> None:
        resources = harness.state_resources(self.DEPLOYMENT)
        assert [(r.type, r.retain_on_delete) for r in resources][:2] == [
            (harness.NAMESPACE_TYPE, False),
            (harness.NAMESPACE_TYPE, True),
        ]
        assert harness.retained_namespaces(resources) == ["demo-apps"]
        assert harness.state_resources({}) == []

    def cluster(self, live: dict[tuple[str, ...], str]) -> Any:
        asked: list[tuple[str, ...]] = []

        def get(context: str, *arguments: str) -> str:
            assert context == "kind-e2e"
            asked.append(arguments)
            return live.get(arguments, "")

        get.asked = asked  # type: ignore[attr-defined]
        return get

    def test_nothing_left_when_the_cluster_has_none_of_it(self) -> None:
        get = self.cluster({})
        assert harness.leftovers(harness.state_resources(self.DEPLOYMENT), "kind-e2e", get) == []
        assert ("get", "secret", "-n", "istio-system", "-l", "owner=helm,name=istiod", "-o", "name") in get.asked

    def test_names_a_namespace_a_release_and_a_retained_namespace_still_enrolled(self) -> None:
        enrolled = {"metadata": {"name": "demo-apps", "labels": {"istio.io/dataplane-mode": "ambient"}}}
        get = self.cluster(
            {
                ("get", "namespace", "istio-system", "--ignore-not-found", "-o", "json"): '{"metadata": {}}',
                ("get", "namespace", "demo-apps", "--ignore-not-found", "-o", "json"): json.dumps(enrolled),
                ("get", "secret", "-n", "istio-system", "-l", "owner=helm,name=istiod", "-o", "name"): "secret/x\n",
            }
        )
        assert harness.leftovers(harness.state_resources(self.DEPLOYMENT), "kind-e2e", get) == [
            "namespace istio-system (made by urn:a::istio-system)",
            "namespace demo-apps still labelled istio.io/dataplane-mode",
            "Helm release istio-system/istiod",
        ]

    def test_a_retained_namespace_without_the_label_is_not_a_leftover(self) -> None:
        unenrolled = {"metadata": {"name": "demo-apps", "labels": {"kubernetes.io/metadata.name": "demo-apps"}}}
        get = self.cluster(
            {("get", "namespace", "demo-apps", "--ignore-not-found", "-o", "json"): json.dumps(unenrolled)}
        )
        assert harness.leftovers([StateResource(*self.retained())], "kind-e2e", get) == []

    @staticmethod
    def retained() -> tuple[str, str, dict[str, Any], dict[str, Any], bool]:
        return ("urn:a::demo-apps", harness.NAMESPACE_TYPE, {"metadata": {"name": "demo-apps"}}, {}, True)


def test_wait_until_stops_at_the_first_empty_answer_or_the_timeout() -> None:
    answers = iter([["a"], ["a"], []])
    assert harness.wait_until(lambda: next(answers), timeout=10, interval=0) == []
    assert harness.wait_until(lambda: ["still"], timeout=0, interval=0) == ["still"]


def test_every_cli_call_uses_the_runs_file_backend_and_passphrase(tmp_path: Path) -> None:
    environment = harness.workspace_environment(tmp_path)
    assert environment["PULUMI_BACKEND_URL"] == f"file://{tmp_path.resolve()}"
    assert environment["PULUMI_CONFIG_PASSPHRASE"]


class TestReport:
    def load(self, failures: list[Failure]) -> LoadResult:
        return LoadResult(
            target="https://echo.home.arpa/ at 172.18.255.200:443",
            rate_per_second=10,
            planned=27000,
            sent=612,
            succeeded=612 - len(failures),
            failed=len(failures),
            failures=failures,
            duration_seconds=61.2,
            longest_gap_seconds=2.4 if failures else 0.2,
            stopped_early=True,
        )

    def report(self) -> ScenarioReport:
        report = ScenarioReport("day-two", "e2e-day-two")
        report.step("pulumi up (starter stack)", 180.04)
        report.step("gatewayReplicas: 2", 61.2, self.load([]))
        failures = [Failure(12.5, "connection", "ConnectionRefusedError: [Errno 111] refused")] * 2
        report.step("address pool renamed (renamedFrom)", 61.2, self.load(failures), "address unchanged")
        report.finish(AssertionError("2 failed"))
        return report

    def test_json_per_scenario_with_totals_and_every_failure(self, tmp_path: Path) -> None:
        path = self.report().write(tmp_path, 3)
        assert path.name == "03-day-two.json"
        written = json.loads(path.read_text())
        assert written["outcome"] == "failed" and written["error"] == "AssertionError: 2 failed"
        assert written["totals"] == {"sent": 1224, "failed": 2, "longest_gap_seconds": 2.4}
        renamed = written["steps"][2]
        assert renamed["load"]["failures"][0] == {
            "at_seconds": 12.5,
            "kind": "connection",
            "detail": "ConnectionRefusedError: [Errno 111] refused",
        }
        assert renamed["load"]["failures_by_kind"] == {"connection": 2}
        assert written["steps"][0] == {"name": "pulumi up (starter stack)", "seconds": 180.0, "load": None, "notes": []}

    def test_markdown_summary_has_a_row_per_step_and_each_failure(self, tmp_path: Path) -> None:
        self.report().write(tmp_path, 3)
        summary = markdown(read_reports(tmp_path))
        assert "| day-two | gatewayReplicas: 2 | 61.2 | 612 | 0 | 0.2 | failed |" in summary
        assert "| day-two | address pool renamed (renamedFrom) | 61.2 | 612 | 2 | 2.4 | failed |" in summary
        assert "| day-two | pulumi up (starter stack) | 180.0 | - | - | - | failed |" in summary
        assert summary.count("failed at 12.5 s, connection: ConnectionRefusedError") == 2
        assert "- address pool renamed (renamedFrom): address unchanged" in summary

    def test_the_summary_command_reads_a_report_directory(self, tmp_path: Path) -> None:
        self.report().write(tmp_path, 3)
        result = subprocess.run(
            [sys.executable, "-m", "tests.e2e.report", str(tmp_path)],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=60,
            check=True,
        )
        assert result.stdout == markdown(read_reports(tmp_path))

    def test_an_empty_run_says_so(self, tmp_path: Path) -> None:
        assert "No scenario ran" in markdown(read_reports(tmp_path))


@pytest.mark.parametrize(
    ("subnets", "problem"),
    [(["fc00:f853:ccd:e793::/64"], "no IPv4 subnet"), (["10.0.0.0/26"], "too small")],
)
def test_a_network_without_room_for_the_pool_is_refused(subnets: list[str], problem: str) -> None:
    with pytest.raises(ValueError, match=problem):
        harness.address_pool_in(subnets)
    assert harness.main(["address-pool", *subnets]) == 1


def ready(node: str, is_ready: bool = True) -> dict[str, Any]:
    condition = {"type": "Ready", "status": "True" if is_ready else "False"}
    return {"spec": {"nodeName": node}, "status": {"phase": "Running", "conditions": [condition]}}


@pytest.mark.parametrize(
    ("replicas", "avoid", "problems"),
    [
        ([ready("w1"), ready("w2")], None, []),
        ([ready("w1"), ready("w2", False)], None, ["1 of 2 Ready, on ['w1']"]),
        ([ready("w1"), ready("w1")], None, ["the 2 Ready replicas share nodes: ['w1', 'w1']"]),
        # After a drain of w2 both replicas may share the one worker left.
        ([ready("w1"), ready("w1")], "w2", []),
        ([ready("w1"), ready("w2")], "w2", ["a Ready replica is still on w2"]),
    ],
)
def test_replicas_are_ready_on_different_nodes_or_off_the_drained_one(
    replicas: list[dict[str, Any]], avoid: str | None, problems: list[str]
) -> None:
    assert harness.spread_problems(replicas, 2, avoid) == problems


# A stand-in `pulumi` on PATH: logs each call (arguments, directory, the backend variables) and answers as
# the CLI does for the commands the Automation API sends (pulumi/automation/_stack.py, _local_workspace.py).
FAKE_PULUMI = """#!{python}
import json, os, sys
args = [arg for arg in sys.argv[1:] if arg != "--non-interactive"]
with open({log!r}, "a") as log:
    keep = ("PULUMI_BACKEND_URL", "PULUMI_CONFIG_PASSPHRASE")
    log.write(json.dumps({{"args": args, "cwd": os.getcwd(), "env": {{k: os.environ.get(k) for k in keep}}}}) + "\\n")
stack = args[args.index("--stack") + 1] if "--stack" in args else None
if args[:1] == ["version"]:
    print("v3.272.0")
elif args[:2] == ["stack", "select"]:
    sys.stderr.write("error: no stack named '%s' found\\n" % stack)
    sys.exit(255)
elif args[:2] == ["stack", "init"]:
    open("Pulumi.%s.yaml" % args[2], "w").write("encryptionsalt: v1:salt\\n")
elif args[:2] == ["stack", "history"]:
    print(json.dumps([{{"kind": "update", "startTime": "2026-12-07T00:00:00.000Z", "message": "",
                        "environment": {{}}, "config": {{}}, "result": "succeeded"}}]))
elif args[:2] == ["stack", "output"]:
    print(json.dumps({{"gatewayAddress": "172.18.255.200", "urls": ["https://echo.home.arpa/"]}}))
elif args[:2] == ["stack", "export"]:
    stack_resource = {{"urn": "urn:a", "type": "pulumi:pulumi:Stack"}}
    print(json.dumps({{"version": 3, "deployment": {{"resources": [stack_resource]}}}}))
"""


class TestAutomation:
    @pytest.fixture
    def calls(self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
        bin_dir, log = tmp_path / "bin", tmp_path / "calls.jsonl"
        bin_dir.mkdir()
        fake = bin_dir / "pulumi"
        fake.write_text(FAKE_PULUMI.format(python=sys.executable, log=str(log)))
        fake.chmod(0o755)
        monkeypatch.setenv("PATH", f"{bin_dir}:{os.environ['PATH']}")
        monkeypatch.delenv("PULUMI_BACKEND_URL", raising=False)
        return log

    @staticmethod
    def logged(log: Path) -> list[dict[str, Any]]:
        return [json.loads(line) for line in log.read_text().splitlines()]

    def test_drives_the_cli_in_the_project_copy_with_the_runs_backend(self, tmp_path: Path, calls: Path) -> None:
        work_dir, backend = tmp_path / "project", tmp_path / "backend"
        work_dir.mkdir()
        stack = harness.E2eStack("e2e-day-two", work_dir, backend)
        stack.configure(stack_config(CLUSTER))
        outputs = stack.up(replace=["urn:pulumi:e2e-day-two::homelab-mesh::tls:a"], expect_no_changes=True)
        assert outputs == {"gatewayAddress": "172.18.255.200", "urls": ["https://echo.home.arpa/"]}
        assert [r.type for r in stack.resources()] == ["pulumi:pulumi:Stack"]
        stack.destroy_everything()

        logged = [call for call in self.logged(calls) if call["args"] != ["version"]]
        assert {call["cwd"] for call in logged} == {str(work_dir)}
        backend_variables = {
            "PULUMI_BACKEND_URL": backend.resolve().as_uri(),
            "PULUMI_CONFIG_PASSPHRASE": harness.TEST_PASSPHRASE,
        }
        assert [call["env"] for call in logged] == [backend_variables] * len(logged)
        commands = [call["args"] for call in logged]
        assert commands[:2] == [["stack", "select", "--stack", "e2e-day-two"], commands[1]]
        assert commands[1][:5] == ["stack", "init", "e2e-day-two", "--secrets-provider", "passphrase"]
        [up] = [command for command in commands if command[0] == "up"]
        assert up[up.index("--replace") + 1] == "urn:pulumi:e2e-day-two::homelab-mesh::tls:a"
        assert "--expect-no-changes" in up and "--yes" in up
        unprotect = commands.index(["state", "unprotect", "--all", "--yes", "--stack", "e2e-day-two"])
        [destroy] = [index for index, command in enumerate(commands) if command[0] == "destroy"]
        assert unprotect < destroy and "--stack" in commands[destroy]
        # The stack file keeps the salt `stack init` wrote, under the scenario's config.
        written = yaml.safe_load((work_dir / "Pulumi.e2e-day-two.yaml").read_text())
        assert written["encryptionsalt"] == "v1:salt"
        assert written["config"]["homelab-mesh:kubeContext"] == "kind-e2e"


# --- the adoption scenario ----------------------------------------------------------------------------------

ADOPTION = Cluster("kind-adoption", "172.18.255.200-172.18.255.250")
CLASSIC_ADDRESS, SECOND_ADDRESS = "172.18.255.200", "172.18.255.250"
ADOPTION_READY = {"E2E_ADOPTION_KUBE_CONTEXT": "kind-adoption", "E2E_ISTIOCTL": "/opt/istio-1.28.2/istioctl"}
# What the cluster inspection reports on the seed cluster (scripts/inspect-cluster.sh, MODE=report): the four
# Istio releases' objects istioctl's, MetalLB's rendered by `helm template`, the namespaces and the pool the
# seed made with kubectl (tests/e2e/seed.py), the apps' namespace present.
SEED_REPORT = """release istio-base istio-system no istioctl
release istiod istio-system no istioctl
release istio-cni istio-system no istioctl
release ztunnel istio-system no istioctl
release metallb metallb-system no helm-template
object namespace - istio-system other
object namespace - metallb-system other
object ipaddresspools.metallb.io metallb-system homelab-lan other
object l2advertisements.metallb.io metallb-system homelab-l2 absent
object namespace - istio-gateway other
labelled demo-apps present
end
"""


def executable(path: str) -> bool:
    return path == ADOPTION_READY["E2E_ISTIOCTL"]


class TestAdoptionSkip:
    def test_without_its_own_context_it_is_skipped_with_that_reason(self) -> None:
        reason = harness.adoption_skip_reason({"E2E_KUBE_CONTEXT": "kind-e2e"}, on_path("pulumi", "kubectl", "helm"))
        assert reason is not None and reason.startswith("E2E_ADOPTION_KUBE_CONTEXT is not set")
        assert "1.31 to 1.34" in reason

    @pytest.mark.parametrize("missing", ["pulumi", "kubectl", "helm"])
    def test_without_a_tool_it_is_skipped_naming_it(self, missing: str) -> None:
        tools = [tool for tool in ("pulumi", "kubectl", "helm") if tool != missing]
        reason = harness.adoption_skip_reason(ADOPTION_READY, on_path(*tools), executable)
        assert reason is not None and reason.startswith(f"{missing} is not on PATH")

    @pytest.mark.parametrize("istioctl", ["", "/nowhere/istioctl"])
    def test_without_the_seeds_istioctl_it_is_skipped_naming_the_variable(self, istioctl: str) -> None:
        environment = {**ADOPTION_READY, "E2E_ISTIOCTL": istioctl}
        reason = harness.adoption_skip_reason(environment, on_path("pulumi", "kubectl", "helm"), executable)
        assert reason is not None and reason.startswith("E2E_ISTIOCTL does not name an executable istioctl 1.28.2")

    def test_with_everything_it_runs(self) -> None:
        assert harness.adoption_skip_reason(ADOPTION_READY, on_path("pulumi", "kubectl", "helm"), executable) is None

    def test_its_cluster_is_its_own_context_with_the_runs_pool(self) -> None:
        environment = {**ADOPTION_READY, "E2E_KUBE_CONTEXT": "kind-e2e", "E2E_ADDRESS_POOL": ADOPTION.address_pool}
        assert harness.adoption_cluster_from_environment(environment) == ADOPTION


def compatibility(readme: str) -> dict[str, tuple[str, str]]:
    """Istio minor -> (lowest, highest) Kubernetes minor, from docs/upgrading.md's compatibility table."""
    rows = re.findall(r"^\| (1\.\d+) \| (1\.\d+)\u2013(1\.\d+) \|", readme, re.MULTILINE)
    return {istio: (low, high) for istio, low, high in rows}


def minor_key(minor: str) -> tuple[int, int]:
    major, minor_part = minor.split(".")
    return int(major), int(minor_part)


class TestAdoptionKubernetes:
    def test_its_range_is_where_both_the_seeds_istio_and_the_first_step_run(self) -> None:
        table = compatibility((ROOT / "docs" / "upgrading.md").read_text())
        seed_range, step_range = table["1.28"], table["1.29"]
        both = (max(seed_range[0], step_range[0], key=minor_key), min(seed_range[1], step_range[1], key=minor_key))
        assert both == harness.ADOPTION_KUBERNETES

    @pytest.mark.parametrize(
        ("git_version", "problem"),
        [("v1.34.0", None), ("v1.31.4", None), ("v1.30.2", "runs Kubernetes 1.30"), ("v1.36.1", "1.36")],
    )
    def test_a_cluster_outside_it_is_refused_by_version(self, git_version: str, problem: str | None) -> None:
        minor = harness.kubernetes_minor({"clientVersion": {}, "serverVersion": {"gitVersion": git_version}})
        found = harness.adoption_version_problem(minor)
        assert found is None if problem is None else (found is not None and problem in found)

    def test_no_server_version_is_an_error(self) -> None:
        with pytest.raises(AssertionError, match="no server version"):
            harness.kubernetes_minor({"clientVersion": {"gitVersion": "v1.34.0"}})


def adoption_evaluation(tmp_path: Path, **overrides: Any) -> Evaluation:
    config = harness.adoption_config(ADOPTION, **overrides)
    tmp_path.mkdir(parents=True, exist_ok=True)
    path = harness.write_stack_config(tmp_path, "e2e-adoption", config)
    return evaluate("e2e-adoption", stack_file=path, cluster_report=SEED_REPORT)


class TestAdoptionStack:
    def test_the_homelabs_versions_and_first_route_on_the_named_cluster(self) -> None:
        config = harness.adoption_config(ADOPTION, gatewayAddress=SECOND_ADDRESS)
        homelab = yaml.safe_load((ROOT / "Pulumi.homelab.yaml").read_text())["config"]
        for key in ("istioVersion", "gatewayApiVersion"):
            assert config[f"homelab-mesh:{key}"] == homelab[f"homelab-mesh:{key}"]
        assert config["homelab-mesh:routes"] == homelab["homelab-mesh:routes"][:1]
        assert config["homelab-mesh:kubeContext"] == "kind-adoption"
        assert "homelab-mesh:caValidityDays" not in config and "homelab-mesh:externalNamespaces" not in config

    def test_step_two_adopts_the_seed_and_serves_its_secret_on_the_second_address(self, tmp_path: Path) -> None:
        evaluation = adoption_evaluation(tmp_path, gatewayAddress=SECOND_ADDRESS)
        seed = seed_cluster.seed_of(harness.adoption_config(ADOPTION))

        releases = evaluation.of_type("kubernetes:helm.sh/v3:Release")
        by_release = {release.inputs["name"]: release for release in releases}
        assert {name: release.inputs.get("takeOwnership") for name, release in by_release.items()} == dict.fromkeys(
            ("istio-base", "istiod", "istio-cni", "ztunnel", "metallb"), True
        )
        assert {release.inputs["version"] for name, release in by_release.items() if name != "metallb"} == {"1.28.2"}
        imports = {r.name: r.request.importId for r in evaluation.registrations.values() if r.request.importId}
        assert imports == {
            "istio-namespace": "istio-system",
            "lan-load-balancer-namespace": "metallb-system",
            "ingress-namespace": "istio-gateway",
            f"lan-load-balancer-address-pool-{seed.pool_name}": f"metallb-system/{seed.pool_name}",
        }
        gateway = evaluation.named("ingress-gateway").inputs["spec"]
        assert gateway["infrastructure"]["annotations"]["metallb.io/loadBalancerIPs"] == SECOND_ADDRESS
        [https] = [listener for listener in gateway["listeners"] if listener.get("tls")]
        assert (https["hostname"], https["tls"]["certificateRefs"][0]["name"]) == (seed.hostname, seed.tls_secret)
        # No certificate of the stack's own: the classic gateway's Secret is served as it is.
        assert not [r for r in evaluation.registrations.values() if r.type.startswith("tls:")]
        assert "caCertificatePem" not in evaluation.outputs
        pins = evaluation.named("check-front-door").inputs["environment"]["PINNED_CERTIFICATES"]
        assert pins == f"{seed.hostname} istio-gateway/{seed.tls_secret}\n"

    def test_the_seed_serves_what_the_stack_routes_and_the_secret_it_references(self, tmp_path: Path) -> None:
        evaluation = adoption_evaluation(tmp_path, gatewayAddress=SECOND_ADDRESS)
        seed = seed_cluster.seed_of(harness.adoption_config(ADOPTION))
        route = evaluation.named(f"routes-{seed.hostname.replace('.', '-')}").inputs
        [rule] = route["spec"]["rules"]
        [backend] = rule["backendRefs"]
        assert (route["metadata"]["namespace"], backend["name"], backend["port"]) == (
            seed.backend_namespace,
            seed.backend_service,
            seed.backend_port,
        )
        deployment, service = seed_cluster.backend(seed)
        assert (service["metadata"]["namespace"], service["metadata"]["name"]) == (
            seed.backend_namespace,
            seed.backend_service,
        )
        assert service["spec"]["ports"][0]["port"] == seed.backend_port
        assert service["spec"]["selector"] == deployment["spec"]["template"]["metadata"]["labels"]
        gateway, virtual_service = seed_cluster.classic_routing(seed)
        [server] = gateway["spec"]["servers"]
        assert server["tls"]["credentialName"] == seed_cluster.tls_secret(seed, "c", "k")["metadata"]["name"]
        assert server["hosts"] == virtual_service["spec"]["hosts"] == [seed.hostname]
        assert virtual_service["spec"]["gateways"] == [f"istio-gateway/{gateway['metadata']['name']}"]
        [route_rule] = virtual_service["spec"]["http"]
        destination = route_rule["route"][0]["destination"]
        assert destination["host"] == f"{seed.backend_service}.{seed.backend_namespace}.svc.cluster.local"
        assert destination["port"]["number"] == seed.backend_port
        # The seed's pool is the stack's first one by name and range: imported, never made beside it.
        pool, advertisement = seed_cluster.address_pool(seed)
        assert (pool["metadata"]["name"], pool["spec"]["addresses"]) == (seed.pool_name, [ADOPTION.address_pool])
        assert advertisement["spec"]["ipAddressPools"] == [seed.pool_name]

    def test_step_three_hands_the_classic_address_over(self, tmp_path: Path) -> None:
        evaluation = adoption_evaluation(
            tmp_path, gatewayAddress=CLASSIC_ADDRESS, handoverFrom=seed_cluster.CLASSIC_SERVICE
        )
        handover = evaluation.named("gateway-address-handover").inputs["environment"]
        assert (handover["SERVICE"], handover["ADDRESS"]) == ("istio-gateway/istio-ingressgateway", CLASSIC_ADDRESS)
        gateway = evaluation.named("ingress-gateway")
        assert gateway.inputs["spec"]["infrastructure"]["annotations"]["metallb.io/loadBalancerIPs"] == CLASSIC_ADDRESS
        assert evaluation.named("gateway-address-handover").urn in gateway.dependencies

    def test_steps_four_and_five_keep_the_stack_and_step_to_1_29_9(self, tmp_path: Path) -> None:
        off = adoption_evaluation(tmp_path / "off", gatewayAddress=CLASSIC_ADDRESS, adoptExisting=False)
        assert off.runs == []
        assert not [r for r in off.registrations.values() if r.request.importId]
        step = adoption_evaluation(
            tmp_path / "step", gatewayAddress=CLASSIC_ADDRESS, adoptExisting=False, istioVersion="1.29.9"
        )
        assert step.outputs["istioVersion"] == "1.29.9"
        versions = {r.inputs["name"]: r.inputs["version"] for r in step.of_type("kubernetes:helm.sh/v3:Release")}
        assert {versions[name] for name in ("istio-base", "istiod", "istio-cni", "ztunnel")} == {"1.29.9"}


class TestSeed:
    SEED = seed_cluster.seed_of(harness.adoption_config(ADOPTION))

    def test_istio_is_installed_with_the_seeds_command(self) -> None:
        command = seed_cluster.istioctl_install("/opt/istioctl", "kind-adoption")
        assert command[:4] == ["/opt/istioctl", "install", "--context", "kind-adoption"]
        settings = [command[index + 1] for index, word in enumerate(command) if word == "--set"]
        # The seed's `istioctl install` (docs/adoption.md: the classic gateway istio-ingressgateway
        # in istio-gateway, the ambient profile).
        assert settings == [
            "profile=ambient",
            "components.ingressGateways[0].name=istio-ingressgateway",
            "components.ingressGateways[0].enabled=true",
            "components.ingressGateways[0].namespace=istio-gateway",
        ]
        assert command[-1] == "--skip-confirmation"

    def test_metallb_is_rendered_from_the_chart_and_version_the_stack_installs(self) -> None:
        command = seed_cluster.metallb_template(
            seed_cluster.project_default("metallbChartRepository"), seed_cluster.project_default("metallbVersion")
        )
        assert command[:4] == ["helm", "template", "metallb", "metallb"]
        options = dict(zip(command[4::2], command[5::2], strict=True))
        assert options["--repo"] == "https://metallb.github.io/metallb"
        assert options["--version"] == "0.16.1"
        assert options["--namespace"] == "metallb-system"

    @pytest.mark.parametrize(
        ("pool", "taken", "free"),
        [
            ("172.18.255.200-172.18.255.250", ["172.18.255.200"], "172.18.255.250"),
            ("172.18.255.200-172.18.255.250", ["172.18.255.250"], "172.18.255.249"),
            ("172.18.255.200/30", ["172.18.255.203"], "172.18.255.202"),
        ],
    )
    def test_the_second_address_is_the_highest_free_one(self, pool: str, taken: list[str], free: str) -> None:
        assert seed_cluster.second_address(pool, taken) == free

    def test_a_full_pool_has_no_second_address(self) -> None:
        with pytest.raises(AssertionError, match="no free address"):
            seed_cluster.second_address("172.18.255.200-172.18.255.201", ["172.18.255.200", "172.18.255.201"])

    def test_the_namespaces_are_labelled_as_the_seed_labels_them(self) -> None:
        labels = {ns["metadata"]["name"]: ns["metadata"]["labels"] for ns in seed_cluster.namespaces(self.SEED)}
        ambient = {"istio.io/dataplane-mode": "ambient"}
        assert labels == {"metallb-system": {}, "istio-gateway": ambient, self.SEED.backend_namespace: ambient}

    def test_the_classic_gateway_is_removed_with_what_the_handover_prints(self, tmp_path: Path, stubs: Stubs) -> None:
        """The scenario runs the commands scripts/handover-gateway-address.sh prints once it deleted the Service."""
        evaluation = adoption_evaluation(
            tmp_path, gatewayAddress=CLASSIC_ADDRESS, handoverFrom=seed_cluster.CLASSIC_SERVICE
        )
        stubs.add(
            "kubectl",
            Reply("get gateways.gateway.networking.k8s.io ingress", f"True {SECOND_ADDRESS}"),
            Reply("get service istio-ingressgateway", "service/istio-ingressgateway"),
            Reply("delete service istio-ingressgateway", 'service "istio-ingressgateway" deleted\n'),
        )
        result = stubs.run(
            "handover-gateway-address.sh", **evaluation.named("gateway-address-handover").inputs["environment"]
        )
        assert result.status == 0, result.stderr
        printed = [line.split() for line in result.stdout.splitlines() if " delete " in line and " -l " in line]
        [deployment_removal, *_] = seed_cluster.classic_gateway_removal("kind-adoption", self.SEED)
        assert printed == [[word for word in deployment_removal if word != "--ignore-not-found"]]


# Stand-ins for kubectl, helm and istioctl: each logs its arguments and what it read on stdin, and answers
# the seed's one question (the classic Service's address) as a cluster where MetalLB gave it one.
FAKE_CLI = """#!{python}
import json, os, sys
stdin = "" if sys.stdin.isatty() else sys.stdin.read()
with open({log!r}, "a") as log:
    log.write(json.dumps({{"tool": os.path.basename(sys.argv[0]), "args": sys.argv[1:], "stdin": stdin}}) + "\\n")
if "jsonpath={{.status.loadBalancer.ingress[0].ip}}" in sys.argv:
    print("172.18.255.200", end="")
elif sys.argv[1:2] == ["template"]:
    print("kind: Deployment\\nmetadata: {{name: metallb-controller}}")
"""


class TestSeedInstall:
    def test_makes_the_seed_in_order_and_answers_the_classic_address(
        self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        bin_dir, log = tmp_path / "bin", tmp_path / "calls.jsonl"
        bin_dir.mkdir()
        for tool in ("kubectl", "helm", "istioctl"):
            fake = bin_dir / tool
            fake.write_text(FAKE_CLI.format(python=sys.executable, log=str(log)))
            fake.chmod(0o755)
        monkeypatch.setenv("PATH", f"{bin_dir}:{os.environ['PATH']}")
        seed = seed_cluster.seed_of(harness.adoption_config(ADOPTION))

        address = seed_cluster.install("kind-adoption", seed, str(bin_dir / "istioctl"), "CERT", "KEY")

        assert address == "172.18.255.200"
        calls = [json.loads(line) for line in log.read_text().splitlines()]
        steps = [(call["tool"], " ".join(call["args"])) for call in calls]
        kinds = [[doc["kind"] for doc in yaml.safe_load_all(call["stdin"])] if call["stdin"] else [] for call in calls]
        assert steps[0] == ("kubectl", "--context kind-adoption apply -f -") and kinds[0] == ["Namespace"] * 3
        assert steps[1][0] == "helm"
        assert steps[1][1].startswith(
            "template metallb metallb --repo https://metallb.github.io/metallb --version 0.16.1"
        )
        # The rendered chart is applied as it is, in MetalLB's namespace, before the pool its webhook checks.
        assert steps[2] == ("kubectl", "--context kind-adoption -n metallb-system apply -f -")
        assert calls[2]["stdin"].strip() == "kind: Deployment\nmetadata: {name: metallb-controller}"
        assert calls[3]["args"][:6] == ["--context", "kind-adoption", "-n", "metallb-system", "rollout", "status"]
        assert kinds[4] == ["IPAddressPool", "L2Advertisement"]
        assert calls[5]["tool"] == "istioctl" and calls[5]["args"][:3] == ["install", "--context", "kind-adoption"]
        assert kinds[6] == ["Deployment", "Service", "Secret", "Gateway", "VirtualService"]
        secret = list(yaml.safe_load_all(calls[6]["stdin"]))[2]
        assert secret["stringData"] == {"tls.crt": "CERT", "tls.key": "KEY"}
        assert secret["metadata"] == {"name": seed.tls_secret, "namespace": "istio-gateway"}
        assert (
            "rollout status" in " ".join(calls[7]["args"]) and f"deployment/{seed.backend_service}" in calls[7]["args"]
        )
        assert calls[-1]["args"][:6] == ["--context", "kind-adoption", "-n", "istio-gateway", "get", "service"]
