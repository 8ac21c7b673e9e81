"""GitHub Actions workflows: valid against the workflow schema (offline), and wired to the right stacks."""

from __future__ import annotations

import hashlib
import json
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
WORKFLOW_DIR = ROOT / ".github" / "workflows"
WORKFLOWS = sorted([*WORKFLOW_DIR.glob("*.yml"), *WORKFLOW_DIR.glob("*.yaml")])
# The workflows that install and run the program; renovate-config.yml runs only Renovate's validator.
PROGRAM_WORKFLOWS = [path for path in WORKFLOWS if path.name != "renovate-config.yml"]
STACKS = {path.name.removeprefix("Pulumi.").removesuffix(".yaml") for path in ROOT.glob("Pulumi.*.yaml")}
# uv, hash-checked from tools/lock-tool.txt, installs the dev lock (hash-checked too) in seconds where pip takes
# half a minute: a fresh clone is tested within a minute (issue 27). --no-config: no uv.toml on the machine
# changes the index or the resolution; --compile-bytecode: as pip does, so the test workers do not each compile.
TEST_COMMAND = (
    "python3 -m venv venv && venv/bin/pip install -q --require-hashes -r tools/lock-tool.txt "
    "&& venv/bin/uv pip install -q --no-config --compile-bytecode --python venv/bin/python --require-hashes "
    "-r requirements-dev.lock && venv/bin/ruff check . && venv/bin/python -m pytest"
)
# The program imports the homelab_mesh package: after the hash-checked lock, the package from this checkout,
# without dependencies (the lock has them all) and built with the lock's setuptools (no download).
PACKAGE_INSTALL = "venv/bin/pip install -q --no-deps --no-build-isolation ./components"
PROGRAM_INSTALL = (
    f"python3 -m venv venv && venv/bin/pip install -q --require-hashes -r requirements.lock && {PACKAGE_INSTALL}"
)
# The end-to-end job needs the program and pytest: the dev lock, which pins the program's lock as it is.
DEV_INSTALL = (
    f"python3 -m venv venv && venv/bin/pip install -q --require-hashes -r requirements-dev.lock && {PACKAGE_INSTALL}"
)
# The component plugin's virtualenv for the examples job: the program's lock, then the package, as above.
PLUGIN_VENV_INSTALL = (
    "python3 -m venv components/venv && components/venv/bin/pip install -q --require-hashes -r requirements.lock "
    "&& components/venv/bin/pip install -q --no-deps --no-build-isolation ./components"
)
PULUMI_ACTION = "pulumi/actions"
BACKEND_SECRETS = {"PULUMI_BACKEND_URL", "PULUMI_CONFIG_PASSPHRASE", "PULUMI_ACCESS_TOKEN"}
# Each environment's kubeconfig: the deploy identity only in the protected `homelab` environment, the
# read-only identity of deploy/preview-rbac.yaml only in `homelab-preview`.
KUBECONFIG_SECRET = {"homelab": "KUBECONFIG_B64", "homelab-preview": "PREVIEW_KUBECONFIG_B64"}
SECRETS = BACKEND_SECRETS | set(KUBECONFIG_SECRET.values())
# The only write scope any job needs: the preview's comment on the pull request.
WRITE_SCOPES = {("preview.yml", "preview", "pull-requests")}
# `owner/repo@<commit>  # vX.Y.Z`: a full commit SHA, and the release tag it was taken from.
PINNED_USES = re.compile(r"^\s*(?:-\s+)?uses:\s+[\w.-]+/[\w./-]+@[0-9a-f]{40} # v\d+\.\d+\.\d+$")

Workflow = dict[str, Any]
Job = dict[str, Any]
Step = dict[str, Any]


def load(name: str) -> Workflow:
    return yaml.safe_load((WORKFLOW_DIR / name).read_text())


def triggers(workflow: Workflow) -> dict[str, Any]:
    # YAML 1.1 reads the bare key `on` as the boolean true.
    return workflow.get("on", workflow.get(True))


def check_workflows(*paths: Path) -> subprocess.CompletedProcess[str]:
    """check-jsonschema with its vendored copy of the GitHub workflow schema: no download."""
    command = [sys.executable, "-m", "check_jsonschema", "--builtin-schema", "vendor.github-workflows"]
    return subprocess.run([*command, *map(str, paths)], capture_output=True, text=True, timeout=60, check=False)


def zizmor(*paths: Path) -> subprocess.CompletedProcess[str]:
    """zizmor offline (no GitHub API calls), findings of medium severity and above."""
    command = [str(Path(sys.executable).parent / "zizmor"), "--offline", "--min-severity", "medium", "--no-progress"]
    return subprocess.run([*command, *map(str, paths)], capture_output=True, text=True, timeout=60, check=False)


def steps(workflow: Workflow) -> Iterator[tuple[str, Job, Step]]:
    for job_name, job in workflow["jobs"].items():
        for step in job["steps"]:
            yield job_name, job, step


def pulumi_steps(workflow: Workflow) -> Iterator[tuple[str, Job, Step]]:
    for job_name, job, step in steps(workflow):
        if step.get("uses", "").startswith(PULUMI_ACTION + "@"):
            yield job_name, job, step


def locked_version(lock: str, package: str) -> str:
    match = re.search(rf"^{re.escape(package)}==(\S+)", (ROOT / lock).read_text(), re.MULTILINE)
    assert match, f"{package} is not pinned in {lock}"
    return match.group(1)


def run_step(step: Step, tmp_path: Path, env: dict[str, str]) -> tuple[subprocess.CompletedProcess[str], str]:
    """Run a `run:` step with bash -e as the runner does; returns the result and what it wrote to GITHUB_OUTPUT."""
    output = tmp_path / "github_output"
    output.touch()
    environment = {**os.environ, "RUNNER_TEMP": str(tmp_path), "GITHUB_OUTPUT": str(output), **env}
    result = subprocess.run(
        ["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", step["run"]],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    return result, output.read_text()


def only_pulumi_step(workflow: Workflow) -> tuple[str, Job, Step]:
    steps = list(pulumi_steps(workflow))
    assert len(steps) == 1, f"expected one pulumi/actions step, found {len(steps)}"
    return steps[0]


def test_the_preview_deploy_renew_e2e_and_renovate_config_workflows_exist() -> None:
    names = {"preview.yml", "deploy.yml", "renew.yml", "e2e.yml", "renovate-config.yml"}
    assert names <= {path.name for path in WORKFLOWS}


def test_every_workflow_matches_the_github_workflow_schema() -> None:
    result = check_workflows(*WORKFLOWS)
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_schema_check_rejects_a_broken_workflow(tmp_path: Path) -> None:
    broken = tmp_path / "broken.yml"
    broken.write_text("on: push\njobs:\n  test:\n    steps:\n      - run: true\n")
    result = check_workflows(broken)
    assert result.returncode != 0
    assert "runs-on" in result.stdout + result.stderr


@pytest.mark.parametrize("path", WORKFLOWS, ids=lambda path: path.name)
def test_no_default_permissions_and_each_job_asks_for_what_it_needs(path: Path) -> None:
    workflow = load(path.name)
    assert workflow.get("permissions") == {}, "top level: `permissions: {}`, grants per job"
    for job_name, job in workflow["jobs"].items():
        permissions = job.get("permissions")
        assert isinstance(permissions, dict), f"{job_name}: permissions must list scopes, not {permissions!r}"
        assert permissions.get("contents") == "read", f"{job_name}: needs contents: read to check out"
        for scope, access in permissions.items():
            assert access in ("read", "none") or (path.name, job_name, scope) in WRITE_SCOPES, (
                f"{path.name} {job_name}: {scope}: {access}"
            )


@pytest.mark.parametrize("path", WORKFLOWS, ids=lambda path: path.name)
def test_only_the_documented_secrets_are_used(path: Path) -> None:
    used = set(re.findall(r"secrets\.(\w+)", path.read_text()))
    assert used <= SECRETS


@pytest.mark.parametrize("path", WORKFLOWS, ids=lambda path: path.name)
def test_secrets_come_from_an_environment_and_each_kubeconfig_from_its_own(path: Path) -> None:
    for job_name, job in load(path.name)["jobs"].items():
        used = set(re.findall(r"secrets\.(\w+)", yaml.safe_dump(job)))
        if not used:
            continue
        environment = job.get("environment")
        assert environment in KUBECONFIG_SECRET, f"{job_name}: secrets outside an environment: {sorted(used)}"
        assert used - BACKEND_SECRETS == {KUBECONFIG_SECRET[environment]}, f"{job_name} ({environment})"


@pytest.mark.parametrize("path", WORKFLOWS, ids=lambda path: path.name)
def test_every_action_is_pinned_to_a_commit_with_its_release_as_comment(path: Path) -> None:
    lines = [line for line in path.read_text().splitlines() if re.match(r"^\s*(-\s+)?uses:", line)]
    assert lines
    for line in lines:
        assert PINNED_USES.match(line), f"{path.name}: not pinned to a commit SHA with `# vX.Y.Z`: {line.strip()}"


def test_the_same_action_release_is_pinned_everywhere() -> None:
    pins: dict[str, set[str]] = {}
    for workflow_path in WORKFLOWS:
        for line in workflow_path.read_text().splitlines():
            if match := re.match(r"^\s*(?:-\s+)?uses:\s+([^@\s]+)@(\S+ # \S+)$", line):
                pins.setdefault(match.group(1), set()).add(match.group(2))
    for action, seen in pins.items():
        assert len(seen) == 1, f"{action} is pinned to different commits: {sorted(seen)}"


@pytest.mark.parametrize("path", WORKFLOWS, ids=lambda path: path.name)
def test_no_checkout_leaves_the_token_in_git_config(path: Path) -> None:
    checkouts = [step for _, _, step in steps(load(path.name)) if step.get("uses", "").startswith("actions/checkout@")]
    assert checkouts
    for step in checkouts:
        assert (step.get("with") or {}).get("persist-credentials") is False


@pytest.mark.parametrize("path", PROGRAM_WORKFLOWS, ids=lambda path: path.name)
def test_the_pulumi_cli_is_the_release_of_the_locked_sdk(path: Path) -> None:
    sdk = locked_version("requirements.lock", "pulumi")
    found = list(pulumi_steps(load(path.name)))
    assert found
    for job_name, _, step in found:
        version = str(step["with"].get("pulumi-version"))
        assert re.fullmatch(r"\d+\.\d+\.\d+", version), f"{job_name}: pulumi-version must be exact: {version!r}"
        assert version == sdk, f"{job_name}: CLI {version} but the lock has the pulumi SDK {sdk}"


@pytest.mark.parametrize("path", PROGRAM_WORKFLOWS, ids=lambda path: path.name)
def test_every_install_is_hash_checked_from_a_lock(path: Path) -> None:
    installs = [step["run"] for _, _, step in steps(load(path.name)) if "pip install" in step.get("run", "")]
    assert installs
    for command in installs:
        assert command in (TEST_COMMAND, PROGRAM_INSTALL, DEV_INSTALL, PLUGIN_VENV_INSTALL), command


@pytest.mark.parametrize("path", WORKFLOWS, ids=lambda path: path.name)
def test_every_npm_install_is_a_clean_install_of_a_committed_lock_without_scripts(path: Path) -> None:
    for _, _, step in steps(load(path.name)):
        for command in re.findall(r"\bnpm (?:install|i|ci|add)\b[^\n&|;]*", step.get("run", "")):
            assert command.startswith("npm ci ") and "--ignore-scripts" in command, command
            directory = ROOT / step.get("working-directory", ".")
            assert (directory / "package-lock.json").is_file(), directory


def test_zizmor_finds_nothing_of_medium_severity_or_above() -> None:
    result = zizmor(WORKFLOW_DIR)
    assert result.returncode == 0, result.stdout + result.stderr


def test_zizmor_fails_an_unpinned_checkout_that_keeps_its_credentials(tmp_path: Path) -> None:
    risky = tmp_path / "risky.yml"
    risky.write_text(
        "on: push\npermissions: {}\njobs:\n  build:\n    runs-on: ubuntu-latest\n    permissions: {}\n"
        "    steps:\n      - uses: actions/checkout@v4\n"
    )
    result = zizmor(risky)
    assert result.returncode != 0
    assert "unpinned-uses" in result.stdout + result.stderr


@pytest.mark.parametrize("name", ["preview.yml", "deploy.yml"])
def test_the_suite_runs_on_python_311_before_any_pulumi_command(name: str) -> None:
    workflow = load(name)
    test_job = workflow["jobs"]["test"]
    assert any(step.get("run") == TEST_COMMAND for step in test_job["steps"])
    setup = next(step for step in test_job["steps"] if step.get("uses", "").startswith("actions/setup-python@"))
    assert setup["with"]["python-version"] == "3.11"
    for job_name, job, _ in pulumi_steps(workflow):
        assert job["needs"] == "test", f"{job_name} must wait for the tests"


def test_ci_runs_the_test_command_the_readme_documents() -> None:
    assert TEST_COMMAND in (ROOT / "README.md").read_text()
    script = (ROOT / ".ci" / "run").read_text().splitlines()
    assert "set -euo pipefail" in script
    assert script[-1] == TEST_COMMAND
    commands = [line for line in script if not line.startswith("#")]
    assert not any("|| true" in line or "|| exit 0" in line for line in commands), "a failure must fail CI"


@pytest.mark.parametrize("name", ["preview.yml", "deploy.yml", "renew.yml"])
def test_pulumi_runs_on_the_lan_runner_with_the_kubeconfig_of_its_environment(name: str) -> None:
    workflow = load(name)
    for job_name, job, pulumi_step in pulumi_steps(workflow):
        assert "self-hosted" in job["runs-on"]
        kubeconfig_secret = KUBECONFIG_SECRET[job["environment"]]
        job_steps = job["steps"]
        assert any(step.get("run") == PROGRAM_INSTALL for step in job_steps[: job_steps.index(pulumi_step)])
        if "command" not in pulumi_step["with"]:
            continue  # installs the CLI only
        assert pulumi_step["with"]["cloud-url"] == "${{ secrets.PULUMI_BACKEND_URL }}"
        passphrase = {**job.get("env", {}), **pulumi_step.get("env", {})}["PULUMI_CONFIG_PASSPHRASE"]
        assert passphrase == "${{ secrets.PULUMI_CONFIG_PASSPHRASE }}"
        kubeconfig = next(i for i, step in enumerate(job_steps) if kubeconfig_secret in (step.get("env") or {}))
        assert "KUBECONFIG=" in job_steps[kubeconfig]["run"] and "GITHUB_ENV" in job_steps[kubeconfig]["run"]
        assert kubeconfig < job_steps.index(pulumi_step), f"{job_name}: the kubeconfig must exist before Pulumi"


def test_the_program_lock_pins_what_the_tests_ran_on() -> None:
    program = dict(re.findall(r"^([\w.-]+)==(\S+)", (ROOT / "requirements.lock").read_text(), re.MULTILINE))
    dev = dict(re.findall(r"^([\w.-]+)==(\S+)", (ROOT / "requirements-dev.lock").read_text(), re.MULTILINE))
    assert {"pulumi", "pulumi-kubernetes", "pulumi-command", "pulumi-tls", "pydantic"} <= set(program)
    assert {name: dev.get(name) for name in program} == program


@pytest.mark.parametrize("lock", ["requirements.lock", "requirements-dev.lock", "tools/lock-tool.txt"])
def test_every_locked_package_carries_its_hashes(lock: str) -> None:
    entries = re.split(r"\n(?=[\w.-]+==)", (ROOT / lock).read_text().split("\n", 2)[-1].strip())
    assert entries
    for entry in entries:
        assert re.search(r"--hash=sha256:[0-9a-f]{64}", entry), entry.splitlines()[0]


@pytest.mark.parametrize("name", ["renew.yml", "e2e.yml"])
def test_scheduled_workflows_run_weekly_and_on_demand_only(name: str) -> None:
    on = triggers(load(name))
    assert set(on) == {"schedule", "workflow_dispatch"}
    [entry] = on["schedule"]
    minute, hour, day_of_month, month, day_of_week = entry["cron"].split()
    assert (day_of_month, month) == ("*", "*") and day_of_week.isdigit(), "once a week"
    assert minute.isdigit() and hour.isdigit()


class TestPreview:
    workflow = load("preview.yml")

    def test_runs_on_pull_requests_only(self) -> None:
        assert set(triggers(self.workflow)) == {"pull_request"}

    def test_the_matrix_covers_every_stack_file(self) -> None:
        _, job, _ = only_pulumi_step(self.workflow)
        assert set(job["strategy"]["matrix"]["stack"]) == STACKS
        assert job["strategy"]["fail-fast"] is False

    def test_previews_each_stack_with_a_diff_commented_on_the_pr(self) -> None:
        _, _, step = only_pulumi_step(self.workflow)
        assert step["with"]["command"] == "preview"
        assert step["with"]["stack-name"] == "${{ matrix.stack }}"
        assert step["with"]["diff"] is True
        assert step["with"]["comment-on-pr"] is True

    def test_fork_pull_requests_never_reach_the_lan_runner(self) -> None:
        _, job, _ = only_pulumi_step(self.workflow)
        assert job["if"] == "github.event.pull_request.head.repo.full_name == github.repository"

    def test_the_first_step_fails_loudly_on_a_fork(self, tmp_path: Path) -> None:
        _, job, _ = only_pulumi_step(self.workflow)
        first = job["steps"][0]
        assert first["env"]["HEAD_REPOSITORY"] == "${{ github.event.pull_request.head.repo.full_name }}"
        assert first["env"]["REPOSITORY"] == "${{ github.repository }}"
        ours = {"REPOSITORY": "me/homelab-mesh"}
        fork, _ = run_step(first, tmp_path, {**ours, "HEAD_REPOSITORY": "stranger/homelab-mesh"})
        assert fork.returncode == 1
        assert "::error::" in fork.stdout + fork.stderr and "stranger/homelab-mesh" in fork.stdout + fork.stderr
        same, _ = run_step(first, tmp_path, {**ours, "HEAD_REPOSITORY": "me/homelab-mesh"})
        assert same.returncode == 0, same.stderr

    def test_previews_in_its_own_environment_with_the_read_only_kubeconfig(self) -> None:
        _, job, _ = only_pulumi_step(self.workflow)
        assert job["environment"] == "homelab-preview"
        text = yaml.safe_dump(job)
        assert "secrets.PREVIEW_KUBECONFIG_B64" in text
        assert "secrets.KUBECONFIG_B64" not in text
        assert "homelab" not in {job.get("environment") for job in self.workflow["jobs"].values()}


class TestDeploy:
    workflow = load("deploy.yml")

    def test_runs_on_pushes_to_main_only(self) -> None:
        assert triggers(self.workflow) == {"push": {"branches": ["main"]}}

    def test_updates_the_homelab_stack(self) -> None:
        _, _, step = only_pulumi_step(self.workflow)
        assert step["with"]["command"] == "up"
        assert step["with"]["stack-name"] == "homelab"

    def test_deploys_in_the_protected_environment(self) -> None:
        _, job, _ = only_pulumi_step(self.workflow)
        assert job["environment"] == "homelab"

    def test_two_deploys_never_overlap(self) -> None:
        concurrency = self.workflow["concurrency"]
        assert concurrency["group"] == "deploy-homelab"
        assert concurrency["cancel-in-progress"] is False

    def test_fails_early_without_kubectl_for_the_programs_scripts(self) -> None:
        _, job, step = only_pulumi_step(self.workflow)
        check = next(index for index, item in enumerate(job["steps"]) if "command -v kubectl" in item.get("run", ""))
        assert check < job["steps"].index(step)


class TestRenew:
    workflow = load("renew.yml")
    job = workflow["jobs"]["renew"]

    def step(self, name_start: str) -> Step:
        return next(step for step in self.job["steps"] if step.get("name", "").startswith(name_start))

    def test_runs_on_the_lan_runner_in_the_protected_environment(self) -> None:
        assert "self-hosted" in self.job["runs-on"]
        assert self.job["environment"] == "homelab"

    def test_never_overlaps_a_deploy(self) -> None:
        assert self.workflow["concurrency"] == load("deploy.yml")["concurrency"]

    def test_renews_only_inside_the_window_and_otherwise_fails_on_drift(self) -> None:
        window = self.step("Which certificates")
        assert window["id"] == "window"
        assert "pulumi stack output --json --stack homelab" in window["run"]
        assert "tools/renewal_due.py" in window["run"]
        up = self.step("pulumi up")
        assert up["if"] == "steps.window.outputs.renew == 'true'"
        assert (up["with"]["command"], up["with"]["stack-name"]) == ("up", "homelab")
        drift = self.step("pulumi preview")
        assert drift["if"] == "steps.window.outputs.renew == 'false'"
        assert (drift["with"]["command"], drift["with"]["stack-name"]) == ("preview", "homelab")
        assert drift["with"]["expect-no-changes"] is True and drift["with"]["diff"] is True
        # Without a refresh the preview compares the program with the state and sees no change on the cluster.
        assert drift["with"]["refresh"] is True
        # Exactly the due certificates are replaced (pulumi-tls#39: early renewal alone is not relied on).
        assert up["with"]["replace"] == "${{ steps.window.outputs.urns }}"
        order = self.job["steps"]
        assert order.index(window) < order.index(up) and order.index(window) < order.index(drift)

    def test_the_window_step_hands_the_due_urns_to_the_replace(self, tmp_path: Path) -> None:
        urn = "urn:pulumi:homelab::homelab-mesh::x$tls:index/locallySignedCert:LocallySignedCert::a-local-certificate"
        outputs = {
            "certificateExpiry": {"a.local": "2000-01-01T00:00:00Z", "b.local": "2999-01-01T00:00:00Z"},
            "certificateUrns": {"a.local": urn, "b.local": urn.replace("a-local", "b-local")},
        }
        result, github_output = self.run_window(tmp_path, json.dumps(outputs))
        assert result.returncode == 0, result.stderr
        assert github_output == f"renew=true\nurns<<DUE_URNS\n{urn}\nDUE_URNS\n"

    @pytest.mark.parametrize(
        ("outputs", "renew"),
        [
            (
                {
                    "certificateExpiry": {"demo-app1.local": "2000-01-01T00:00:00Z"},
                    "certificateUrns": {"demo-app1.local": "urn:pulumi:h::p::t::n"},
                },
                "true",
            ),
            ({"certificateExpiry": {"demo-app1.local": "2999-01-01T00:00:00Z"}}, "false"),
            ({"gatewayAddress": "192.168.1.240"}, "false"),
        ],
        ids=["expired", "far-off", "provided-tls"],
    )
    def test_the_window_step_decides_from_the_stack_outputs(
        self, tmp_path: Path, outputs: dict[str, Any], renew: str
    ) -> None:
        result, github_output = self.run_window(tmp_path, json.dumps(outputs))
        assert result.returncode == 0, result.stderr
        assert github_output.startswith(f"renew={renew}\n")

    def test_the_window_step_fails_on_outputs_it_cannot_read(self, tmp_path: Path) -> None:
        result, github_output = self.run_window(tmp_path, '{"certificateExpiry": {"a.local": "next year"}}')
        assert result.returncode == 2
        assert github_output == ""

    def run_window(self, tmp_path: Path, outputs: str) -> tuple[subprocess.CompletedProcess[str], str]:
        """The step as the runner runs it, with a stand-in `pulumi` that prints the given stack outputs."""
        bin_dir = tmp_path / "bin"
        bin_dir.mkdir()
        fake = bin_dir / "pulumi"
        (tmp_path / "stack-outputs.json").write_text(outputs)
        fake.write_text(f"#!/bin/sh\ncat '{tmp_path / 'stack-outputs.json'}'\n")
        fake.chmod(0o755)
        python_dir = Path(sys.executable).parent
        path = f"{bin_dir}:{python_dir}:{os.environ['PATH']}"
        return run_step(self.step("Which certificates"), tmp_path, {"PATH": path})


class TestE2e:
    workflow = load("e2e.yml")
    job = workflow["jobs"]["e2e"]

    def step(self, start: str) -> Step:
        return next(step for step in self.job["steps"] if step.get("name", "").startswith(start))

    def uses(self, action: str) -> Step:
        return next(step for step in self.job["steps"] if step.get("uses", "").startswith(f"{action}@"))

    def test_runs_on_a_github_hosted_runner_without_any_secret_or_environment(self) -> None:
        assert self.job["runs-on"] == "ubuntu-latest"
        assert "environment" not in self.job
        assert "secrets." not in (WORKFLOW_DIR / "e2e.yml").read_text()

    def test_kind_is_pinned_to_a_release_and_its_node_image_to_a_digest(self) -> None:
        kind = self.uses("helm/kind-action")["with"]
        assert re.fullmatch(r"v\d+\.\d+\.\d+", kind["version"])
        assert re.fullmatch(r"kindest/node:v\d+\.\d+\.\d+@sha256:[0-9a-f]{64}", kind["node_image"])
        # kubectl within one minor of the nodes' Kubernetes.
        node_minor = kind["node_image"].split(":v")[1].split(".")[:2]
        assert kind["kubectl_version"].lstrip("v").split(".")[:2] == node_minor

    def test_the_cluster_has_two_workers_and_is_the_context_the_suite_is_given(self) -> None:
        kind = self.uses("helm/kind-action")["with"]
        config = yaml.safe_load((ROOT / kind["config"]).read_text())
        assert [node["role"] for node in config["nodes"]] == ["control-plane", "worker", "worker"]
        # kind names a cluster's kubeconfig context kind-<name>.
        assert self.job["env"]["E2E_KUBE_CONTEXT"] == f"kind-{kind['cluster_name']}"

    def test_the_pool_lies_at_the_top_of_the_kind_networks_ipv4_subnet(self, tmp_path: Path) -> None:
        """The step as the runner runs it, with a stand-in `docker` that prints kind's two subnets."""
        bin_dir = tmp_path / "bin"
        bin_dir.mkdir()
        docker = bin_dir / "docker"
        docker.write_text("#!/bin/sh\nprintf 'fc00:f853:ccd:e793::/64 172.18.0.0/16 '\n")
        docker.chmod(0o755)
        github_env = tmp_path / "github_env"
        github_env.touch()
        step = self.step("MetalLB's address range")
        result, _ = run_step(step, tmp_path, {"PATH": f"{bin_dir}:{os.environ['PATH']}", "GITHUB_ENV": str(github_env)})
        assert result.returncode == 0, result.stderr
        assert github_env.read_text().splitlines() == [
            "E2E_ADDRESS_POOL=172.18.255.200-172.18.255.250",
            f"E2E_REPORT_DIR={tmp_path}/e2e-report",
        ]

    def test_the_scenarios_run_in_order_after_the_cli_the_cluster_and_the_pool(self) -> None:
        order = self.job["steps"]
        scenarios = self.step("End-to-end scenarios")
        assert scenarios["run"] == "venv/bin/python -m pytest tests/e2e -n 0 -s -rA"
        for before in (self.uses(PULUMI_ACTION), self.uses("helm/kind-action"), self.step("MetalLB's address range")):
            assert order.index(before) < order.index(scenarios)
        assert any(step.get("run") == DEV_INSTALL for step in order[: order.index(scenarios)])

    def test_the_report_reaches_the_job_summary_and_an_artifact_even_when_a_scenario_fails(self) -> None:
        summary = self.step("Summary")
        assert summary["if"] == "always()"
        upload = self.uses("actions/upload-artifact")
        assert upload["if"] == "always()"
        assert upload["with"]["path"] == "${{ runner.temp }}/e2e-report"
        assert "$RUNNER_TEMP/e2e-report" in self.step("MetalLB's address range")["run"]

    def test_the_summary_step_writes_the_markdown_beside_the_json_and_into_the_job_summary(
        self, tmp_path: Path
    ) -> None:
        """Also when no scenario got as far as writing a report (the cluster could not be made)."""
        job_summary = tmp_path / "step_summary.md"
        job_summary.touch()
        environment = {"GITHUB_STEP_SUMMARY": str(job_summary), "E2E_REPORT_DIR": ""}
        result, _ = run_step(self.step("Summary"), tmp_path, environment)
        assert result.returncode == 0, result.stderr
        written = (tmp_path / "e2e-report" / "summary.md").read_text()
        assert "No scenario ran" in written
        assert job_summary.read_text() == written


class TestE2eExamples:
    workflow = load("e2e.yml")
    job = workflow["jobs"]["examples"]

    def step(self, start: str) -> Step:
        return next(step for step in self.job["steps"] if step.get("name", "").startswith(start))

    def uses(self, action: str) -> Step:
        return next(step for step in self.job["steps"] if step.get("uses", "").startswith(f"{action}@"))

    def test_runs_on_a_github_hosted_runner_of_its_own_reading_the_repository_only(self) -> None:
        assert self.job["runs-on"] == "ubuntu-latest"
        assert "environment" not in self.job and "needs" not in self.job
        assert self.job["permissions"] == {"contents": "read"}
        assert "secrets." not in yaml.safe_dump(self.job)

    def test_its_kind_cluster_is_pinned_like_the_e2e_jobs_and_is_the_context_it_checks(self) -> None:
        kind = self.uses("helm/kind-action")["with"]
        e2e_kind = TestE2e().uses("helm/kind-action")["with"]
        for key in ("version", "node_image", "kubectl_version"):
            assert kind[key] == e2e_kind[key], key
        others = {TestE2e().uses("helm/kind-action")["with"]["cluster_name"]}
        others.add(TestE2eAdoption().uses("helm/kind-action")["with"]["cluster_name"])
        assert kind["cluster_name"] not in others
        assert self.job["env"]["EXAMPLES_KUBE_CONTEXT"] == f"kind-{kind['cluster_name']}"

    def test_the_steps_run_in_order(self) -> None:
        order = [
            self.uses("actions/checkout"),
            self.uses("actions/setup-python"),
            self.step("The component plugin's virtualenv"),
            self.uses(PULUMI_ACTION),
            self.uses("helm/kind-action"),
            self.step("The kubeconfig's current context"),
            self.step("A file backend"),
            self.step("The Kubernetes provider plugin"),
            self.step("Add the component package"),
            self.step("A stack for the example"),
            self.step("Preview the YAML example"),
            self.uses("actions/setup-node"),
            self.step("TypeScript: the example's locked dependencies"),
            self.step("TypeScript: add the component package"),
            self.step("TypeScript: nothing came from the registry"),
            self.step("TypeScript: a stack for the example"),
            self.step("TypeScript: preview the example"),
        ]
        assert order == self.job["steps"]

    def test_the_typescript_example_installs_from_its_lock_and_fails_on_anything_else(self) -> None:
        """Its own dependencies come from the committed lock with no install scripts; `pulumi package add`
        then runs a plain `npm install`, and the guard compares the lock it leaves with the committed one."""
        node = self.uses("actions/setup-node")["with"]
        assert node["package-manager-cache"] is False
        major = int(str(node["node-version"]))
        assert major % 2 == 0 and major >= 22, "an LTS release still supported (Node.js 20 ended 2026-04-30)"
        steps = [
            self.step(name)
            for name in (
                "TypeScript: the example's locked dependencies",
                "TypeScript: add the component package",
                "TypeScript: nothing came from the registry",
                "TypeScript: a stack for the example",
                "TypeScript: preview the example",
            )
        ]
        assert {step["working-directory"] for step in steps} == {"examples/typescript"}
        install, add, guard, stack, preview = (step["run"] for step in steps)
        assert install == "npm ci --ignore-scripts"
        assert (ROOT / "examples" / "typescript" / "package-lock.json").is_file()
        assert add == "pulumi package add ../../components"
        assert steps[1]["env"] == steps[4]["env"] == {"PIP_NO_BUILD_ISOLATION": "0"}
        assert "git show HEAD:examples/typescript/package-lock.json" in guard
        assert "tools/npm_lock_guard.py" in guard and (ROOT / "tools" / "npm_lock_guard.py").is_file()
        assert stack == "pulumi stack init examples"
        assert preview == "pulumi preview --stack examples --non-interactive --diff"

    def test_the_plugin_virtualenv_is_hash_checked_where_the_language_host_looks_for_it(self) -> None:
        """PulumiPlugin.yaml names no virtualenv, so the python language host runs the plugin from `venv` in
        the plugin's folder (pulumi/pulumi sdk/python/cmd/pulumi-language-python/main.go, parseOptions)."""
        assert self.step("The component plugin's virtualenv")["run"] == PLUGIN_VENV_INSTALL
        runtime = yaml.safe_load((ROOT / "components" / "PulumiPlugin.yaml").read_text())["runtime"]
        assert runtime == "python" or "virtualenv" not in (runtime.get("options") or {})
        assert (ROOT / "components" / "pyproject.toml").is_file() and (ROOT / "components" / "__main__.py").is_file()

    def test_adds_the_package_from_this_checkout_and_previews_the_yaml_example(self) -> None:
        add = self.step("Add the component package")
        stack = self.step("A stack for the example")
        preview = self.step("Preview the YAML example")
        for step in (add, stack, preview):
            assert step["working-directory"] == "examples/yaml"
        assert (ROOT / add["working-directory"] / "Pulumi.yaml").is_file()
        assert add["run"] == "pulumi package add ../../components"
        assert (ROOT / "examples" / "yaml" / "../../components" / "PulumiPlugin.yaml").resolve().is_file()
        assert stack["run"] == "pulumi stack init examples"
        assert preview["run"] == "pulumi preview --stack examples --non-interactive --diff"
        # `package add` installs the plugin (and the preview may again): both without build isolation.
        assert add["env"] == {"PIP_NO_BUILD_ISOLATION": "0"} and preview["env"] == add["env"]

    def test_pip_reads_the_variable_as_no_build_isolation(self) -> None:
        """pip sets a store_false option to its variable's value: PIP_NO_BUILD_ISOLATION=0 means no isolation."""
        probe = (
            "from pip._internal.commands import create_command\n"
            "options, _ = create_command('install').parse_args([])\n"
            "print(bool(options.build_isolation))"
        )
        plain = {key: value for key, value in os.environ.items() if key != "PIP_NO_BUILD_ISOLATION"}
        for extra, isolated in (({}, "True"), (self.step("Add the component package")["env"], "False")):
            result = subprocess.run(
                [sys.executable, "-c", probe],
                env={**plain, **extra},
                capture_output=True,
                text=True,
                timeout=60,
                check=False,
            )
            assert result.returncode == 0, result.stderr
            assert result.stdout.strip() == isolated, extra

    @pytest.mark.parametrize("lock", ["requirements.lock", None], ids=["the-lock", "no-pin"])
    def test_the_provider_plugin_is_the_release_of_the_locked_pulumi_kubernetes(
        self, tmp_path: Path, lock: str | None
    ) -> None:
        """The step as the runner runs it, with a stand-in `pulumi` that records its arguments; without a
        pulumi-kubernetes pin in the lock it fails rather than install the newest release."""
        bin_dir = tmp_path / "bin"
        bin_dir.mkdir()
        (bin_dir / "pulumi").write_text(f'#!/bin/sh\necho "$@" > {tmp_path}/pulumi-args\n')
        (bin_dir / "pulumi").chmod(0o755)
        step = dict(self.step("The Kubernetes provider plugin"))
        if lock is None:
            (tmp_path / "requirements.lock").write_text("pulumi==3.272.0 \\\n    --hash=sha256:00\n")
            step["run"] = step["run"].replace("requirements.lock", f"{tmp_path}/requirements.lock")
        result, _ = run_step(step, tmp_path, {"PATH": f"{bin_dir}:{os.environ['PATH']}"})
        if lock is None:
            assert result.returncode == 1 and "::error::" in result.stdout
            assert not (tmp_path / "pulumi-args").exists()
            return
        assert result.returncode == 0, result.stderr
        version = locked_version(lock, "pulumi-kubernetes")
        assert (tmp_path / "pulumi-args").read_text() == f"plugin install resource kubernetes {version}\n"

    def test_the_stacks_live_in_a_file_backend_in_the_runners_temporary_directory(self, tmp_path: Path) -> None:
        from tests.e2e.harness import TEST_PASSPHRASE

        github_env = tmp_path / "github_env"
        github_env.touch()
        result, _ = run_step(self.step("A file backend"), tmp_path, {"GITHUB_ENV": str(github_env)})
        assert result.returncode == 0, result.stderr
        assert github_env.read_text().splitlines() == [
            f"PULUMI_BACKEND_URL=file://{tmp_path}/pulumi-examples-state",
            f"PULUMI_CONFIG_PASSPHRASE={TEST_PASSPHRASE}",
        ]
        assert (tmp_path / "pulumi-examples-state").is_dir()

    @pytest.mark.parametrize(
        ("kubectl", "returncode"),
        [
            ("echo kind-homelab-mesh-examples", 0),
            ("echo kind-homelab-mesh-e2e", 1),
            ("echo 'error: current-context is not set' >&2; exit 1", 1),
        ],
        ids=["the-cluster", "another-context", "no-context"],
    )
    def test_the_context_check_passes_only_on_the_examples_cluster(
        self, tmp_path: Path, kubectl: str, returncode: int
    ) -> None:
        """The step as the runner runs it, with a stand-in `kubectl config current-context`."""
        bin_dir = tmp_path / "bin"
        bin_dir.mkdir()
        (bin_dir / "kubectl").write_text(f"#!/bin/sh\n{kubectl}\n")
        (bin_dir / "kubectl").chmod(0o755)
        environment = {"PATH": f"{bin_dir}:{os.environ['PATH']}", **self.job["env"]}
        result, _ = run_step(self.step("The kubeconfig's current context"), tmp_path, environment)
        assert result.returncode == returncode, result.stdout + result.stderr
        if kubectl.startswith("echo kind-homelab-mesh-e2e"):
            assert "::error::" in result.stdout and "kind-homelab-mesh-e2e" in result.stdout


# A stand-in `curl -fsSL --retry 3 -o <file> <url>`: copies the file named like the URL's last segment from
# $RELEASE_FILES, or fails as curl -f does on a 404.
FAKE_CURL = """#!/bin/sh
out=""
while [ $# -gt 1 ]; do
  if [ "$1" = -o ]; then out=$2; shift; fi
  shift
done
source_file="$RELEASE_FILES/${1##*/}"
[ -f "$source_file" ] || { echo "curl: (22) The requested URL returned error: 404" >&2; exit 22; }
cp "$source_file" "$out"
"""


class TestE2eAdoption:
    workflow = load("e2e.yml")
    job = workflow["jobs"]["adoption"]

    def step(self, start: str) -> Step:
        return next(step for step in self.job["steps"] if step.get("name", "").startswith(start))

    def uses(self, action: str) -> Step:
        return next(step for step in self.job["steps"] if step.get("uses", "").startswith(f"{action}@"))

    def test_runs_on_a_github_hosted_runner_of_its_own_without_any_secret_or_environment(self) -> None:
        assert self.job["runs-on"] == "ubuntu-latest"
        assert "environment" not in self.job and "needs" not in self.job
        assert "secrets." not in yaml.safe_dump(self.job)

    def test_its_cluster_runs_a_kubernetes_both_istio_1_28_and_1_29_run(self) -> None:
        from tests.e2e.harness import ADOPTION_KUBERNETES

        kind = self.uses("helm/kind-action")["with"]
        assert re.fullmatch(r"v\d+\.\d+\.\d+", kind["version"])
        assert re.fullmatch(r"kindest/node:v\d+\.\d+\.\d+@sha256:[0-9a-f]{64}", kind["node_image"])
        node_minor = ".".join(kind["node_image"].split(":v")[1].split(".")[:2])
        low, high = ([int(part) for part in bound.split(".")] for bound in ADOPTION_KUBERNETES)
        assert low <= [int(part) for part in node_minor.split(".")] <= high
        assert ".".join(kind["kubectl_version"].lstrip("v").split(".")[:2]) == node_minor
        config = yaml.safe_load((ROOT / kind["config"]).read_text())
        assert [node["role"] for node in config["nodes"]] == ["control-plane", "worker", "worker"]
        # Its own context: the other scenarios' E2E_KUBE_CONTEXT is not set here, so they skip.
        assert self.job["env"]["E2E_ADOPTION_KUBE_CONTEXT"] == f"kind-{kind['cluster_name']}"
        assert "E2E_KUBE_CONTEXT" not in self.job["env"]
        assert "E2E_ADOPTION_KUBE_CONTEXT" not in load("e2e.yml")["jobs"]["e2e"]["env"]

    def test_istioctl_is_the_release_the_homelab_runs(self) -> None:
        homelab = yaml.safe_load((ROOT / "Pulumi.homelab.yaml").read_text())["config"]
        assert self.job["env"]["ISTIOCTL_VERSION"] == homelab["homelab-mesh:istioVersion"] == "1.28.2"

    def release(self, tmp_path: Path, asset: str, member: str, checksum: str | None = None) -> Path:
        """A release directory with `asset` (a tar.gz holding an executable `member`) and its `.sha256`:
        as published (`<hash> <asset>` for istioctl, the hash alone for helm) unless `checksum` says otherwise."""
        files = tmp_path / "release"
        (files / "content" / Path(member).parent).mkdir(parents=True, exist_ok=True)
        binary = files / "content" / member
        binary.write_text("#!/bin/sh\necho 'stand-in version'\n")
        binary.chmod(0o755)
        archive = files / asset
        subprocess.run(["tar", "-czf", str(archive), "-C", str(files / "content"), member], check=True, timeout=30)
        digest = hashlib.sha256(archive.read_bytes()).hexdigest()
        published = f"{digest} {asset}\n" if asset.startswith("istioctl") else f"{digest}\n"
        (files / f"{asset}.sha256").write_text(published if checksum is None else checksum)
        return files

    def run_download(self, step: str, tmp_path: Path, files: Path) -> tuple[subprocess.CompletedProcess[str], str, str]:
        bin_dir = tmp_path / "bin"
        bin_dir.mkdir(exist_ok=True)
        curl = bin_dir / "curl"
        curl.write_text(FAKE_CURL)
        curl.chmod(0o755)
        github_env, github_path = tmp_path / "github_env", tmp_path / "github_path"
        github_env.touch()
        github_path.touch()
        environment = {
            **self.job["env"],
            "PATH": f"{bin_dir}:{os.environ['PATH']}",
            "RELEASE_FILES": str(files),
            "GITHUB_ENV": str(github_env),
            "GITHUB_PATH": str(github_path),
        }
        result, _ = run_step(self.step(step), tmp_path, environment)
        return result, github_env.read_text(), github_path.read_text()

    def test_istioctl_is_used_only_when_its_sha256_is_the_published_one(self, tmp_path: Path) -> None:
        asset = "istioctl-1.28.2-linux-amd64.tar.gz"
        result, github_env, _ = self.run_download("istioctl", tmp_path, self.release(tmp_path, asset, "istioctl"))
        assert result.returncode == 0, result.stderr
        assert github_env == f"E2E_ISTIOCTL={tmp_path}/istioctl-1.28.2/istioctl\n"
        assert "stand-in version" in result.stdout

    @pytest.mark.parametrize(
        "checksum",
        [f"{'0' * 64} istioctl-1.28.2-linux-amd64.tar.gz\n", "", "{digest} istioctl-1.28.1-linux-amd64.tar.gz\n"],
        ids=["other-hash", "empty", "other-file"],
    )
    def test_istioctl_with_another_or_no_checksum_is_refused(self, tmp_path: Path, checksum: str) -> None:
        asset = "istioctl-1.28.2-linux-amd64.tar.gz"
        files = self.release(tmp_path, asset, "istioctl")
        digest = (files / f"{asset}.sha256").read_text().split()[0]
        (files / f"{asset}.sha256").write_text(checksum.replace("{digest}", digest))
        result, github_env, _ = self.run_download("istioctl", tmp_path, files)
        assert result.returncode == 1
        assert "::error::istioctl-1.28.2-linux-amd64.tar.gz: sha256" in result.stdout
        assert github_env == ""
        assert not (tmp_path / "istioctl-1.28.2" / "istioctl").exists()

    def test_istioctl_missing_from_the_release_fails_the_job(self, tmp_path: Path) -> None:
        files = tmp_path / "release"
        files.mkdir()
        result, github_env, _ = self.run_download("istioctl", tmp_path, files)
        assert result.returncode != 0 and github_env == ""

    def test_helm_is_put_on_path_only_when_its_sha256_is_the_published_one(self, tmp_path: Path) -> None:
        asset = "helm-v3.20.2-linux-amd64.tar.gz"
        files = self.release(tmp_path, asset, "linux-amd64/helm")
        result, _, github_path = self.run_download("helm", tmp_path, files)
        assert result.returncode == 0, result.stderr
        assert github_path == f"{tmp_path}/helm-v3.20.2/linux-amd64\n"

        other = tmp_path / "other"
        other.mkdir()
        (files / f"{asset}.sha256").write_text("0" * 64 + "\n")
        result, _, github_path = self.run_download("helm", other, files)
        assert result.returncode == 1 and "::error::helm-v3.20.2-linux-amd64.tar.gz: sha256" in result.stdout
        assert github_path == ""

    def test_the_scenarios_run_after_the_cli_the_cluster_the_tools_and_the_pool(self) -> None:
        order = self.job["steps"]
        scenarios = self.step("End-to-end scenarios")
        assert scenarios["run"] == "venv/bin/python -m pytest tests/e2e -n 0 -s -rA"
        for before in (
            self.uses(PULUMI_ACTION),
            self.uses("helm/kind-action"),
            self.step("istioctl"),
            self.step("helm"),
            self.step("MetalLB's address range"),
        ):
            assert order.index(before) < order.index(scenarios)
        assert any(step.get("run") == DEV_INSTALL for step in order[: order.index(scenarios)])
        # The same pool and report directory as the other job's.
        assert self.step("MetalLB's address range")["run"] == TestE2e().step("MetalLB's address range")["run"]

    def test_its_report_is_summarised_and_uploaded_as_an_artifact_of_its_own(self) -> None:
        assert self.step("Summary")["if"] == "always()"
        assert self.step("Summary")["run"] == TestE2e().step("Summary")["run"]
        upload = self.uses("actions/upload-artifact")
        assert upload["if"] == "always()"
        assert upload["with"]["path"] == "${{ runner.temp }}/e2e-report"
        assert upload["with"]["name"] != TestE2e().uses("actions/upload-artifact")["with"]["name"]


class TestRenovateConfig:
    workflow = load("renovate-config.yml")
    job = workflow["jobs"]["validate"]
    package_dir = ROOT / ".github" / "renovate-validator"

    def test_runs_when_the_configuration_or_the_validator_changes(self) -> None:
        on = triggers(self.workflow)
        assert set(on) == {"pull_request", "push", "workflow_dispatch"}
        watched = ["renovate.json", ".github/renovate-validator/**", ".github/workflows/renovate-config.yml"]
        assert on["pull_request"]["paths"] == watched and on["push"]["paths"] == watched
        assert on["push"]["branches"] == ["main"]

    def test_the_validator_is_one_pinned_release_installed_from_its_lockfile_with_integrity_hashes(self) -> None:
        package = json.loads((self.package_dir / "package.json").read_text())
        pinned = package["dependencies"]["renovate"]
        assert re.fullmatch(r"\d+\.\d+\.\d+", pinned), "an exact release"
        lock = json.loads((self.package_dir / "package-lock.json").read_text())
        packages = lock["packages"]
        assert packages[""]["dependencies"] == {"renovate": pinned}
        assert packages["node_modules/renovate"]["version"] == pinned
        assert all(entry.get("integrity", "").startswith("sha512-") for name, entry in packages.items() if name)
        install = next(step for step in self.job["steps"] if "npm ci" in step.get("run", ""))
        assert install["working-directory"] == ".github/renovate-validator"
        assert install["run"] == "npm ci --ignore-scripts --no-audit --no-fund", "no install script runs"

    def test_validates_the_repository_configuration_strictly_on_the_node_renovate_needs(self) -> None:
        """Without a file argument the validator reads renovate.json as repository configuration."""
        last = self.job["steps"][-1]
        assert last["run"] == ".github/renovate-validator/node_modules/.bin/renovate-config-validator --strict"
        setup = next(step for step in self.job["steps"] if step.get("uses", "").startswith("actions/setup-node@"))
        lock = json.loads((self.package_dir / "package-lock.json").read_text())
        engines = lock["packages"]["node_modules/renovate"]["engines"]
        assert engines["node"].startswith(f"^{setup['with']['node-version']}.")
        assert setup["with"]["package-manager-cache"] is False
        assert (ROOT / "renovate.json").is_file()
