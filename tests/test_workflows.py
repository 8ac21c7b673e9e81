"""GitHub Actions workflows: valid against the workflow schema (offline), and wired to the right stacks."""

from __future__ import annotations

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
STACKS = {path.name.removeprefix("Pulumi.").removesuffix(".yaml") for path in ROOT.glob("Pulumi.*.yaml")}
TEST_COMMAND = (
    "python3 -m venv venv && venv/bin/pip install -q -r requirements-dev.txt && venv/bin/ruff check . "
    "&& venv/bin/python -m pytest"
)
PULUMI_ACTION = "pulumi/actions@v6"
SECRETS = {"KUBECONFIG_B64", "PULUMI_BACKEND_URL", "PULUMI_CONFIG_PASSPHRASE", "PULUMI_ACCESS_TOKEN"}
# The only write scope any job needs: the preview's comment on the pull request.
WRITE_SCOPES = {("preview.yml", "preview", "pull-requests")}

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


def pulumi_steps(workflow: Workflow) -> Iterator[tuple[str, Job, Step]]:
    for job_name, job in workflow["jobs"].items():
        for step in job["steps"]:
            if step.get("uses", "").startswith("pulumi/actions@"):
                yield job_name, job, step


def only_pulumi_step(workflow: Workflow) -> tuple[str, Job, Step]:
    steps = list(pulumi_steps(workflow))
    assert len(steps) == 1, f"expected one pulumi/actions step, found {len(steps)}"
    return steps[0]


def test_the_preview_and_deploy_workflows_exist() -> None:
    assert {"preview.yml", "deploy.yml"} <= {path.name for path in WORKFLOWS}


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
def test_permissions_are_declared_and_read_only_but_for_the_pr_comment(path: Path) -> None:
    workflow = load(path.name)
    assert isinstance(workflow.get("permissions"), dict), "top-level permissions must be explicit"
    scopes = [(None, workflow["permissions"])] + [
        (job_name, job["permissions"]) for job_name, job in workflow["jobs"].items() if "permissions" in job
    ]
    for job_name, permissions in scopes:
        assert isinstance(permissions, dict), f"{job_name}: permissions must list scopes, not {permissions!r}"
        for scope, access in permissions.items():
            assert access in ("read", "none") or (path.name, job_name, scope) in WRITE_SCOPES, (
                f"{path.name} {job_name or 'top level'}: {scope}: {access}"
            )


@pytest.mark.parametrize("path", WORKFLOWS, ids=lambda path: path.name)
def test_only_the_documented_secrets_are_used(path: Path) -> None:
    used = set(re.findall(r"secrets\.(\w+)", path.read_text()))
    assert used <= SECRETS


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


@pytest.mark.parametrize("name", ["preview.yml", "deploy.yml"])
def test_pulumi_runs_on_the_lan_runner_with_the_kubeconfig_from_its_secret(name: str) -> None:
    job_name, job, pulumi_step = only_pulumi_step(load(name))
    assert "self-hosted" in job["runs-on"]
    assert pulumi_step["uses"] == PULUMI_ACTION
    assert pulumi_step["with"]["cloud-url"] == "${{ secrets.PULUMI_BACKEND_URL }}"
    assert pulumi_step["env"]["PULUMI_CONFIG_PASSPHRASE"] == "${{ secrets.PULUMI_CONFIG_PASSPHRASE }}"
    steps = job["steps"]
    kubeconfig = next(index for index, step in enumerate(steps) if "KUBECONFIG_B64" in (step.get("env") or {}))
    assert "KUBECONFIG=" in steps[kubeconfig]["run"] and "GITHUB_ENV" in steps[kubeconfig]["run"]
    assert kubeconfig < steps.index(pulumi_step), f"{job_name}: the kubeconfig must exist before Pulumi runs"


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


class TestDeploy:
    workflow = load("deploy.yml")

    def test_runs_on_pushes_to_main_only(self) -> None:
        assert triggers(self.workflow) == {"push": {"branches": ["main"]}}

    def test_updates_the_homelab_stack(self) -> None:
        _, _, step = only_pulumi_step(self.workflow)
        assert step["with"]["command"] == "up"
        assert step["with"]["stack-name"] == "homelab"

    def test_two_deploys_never_overlap(self) -> None:
        concurrency = self.workflow["concurrency"]
        assert concurrency["group"] == "deploy-homelab"
        assert concurrency["cancel-in-progress"] is False

    def test_fails_early_without_kubectl_for_the_programs_scripts(self) -> None:
        _, job, step = only_pulumi_step(self.workflow)
        check = next(index for index, item in enumerate(job["steps"]) if "command -v kubectl" in item.get("run", ""))
        assert check < job["steps"].index(step)
