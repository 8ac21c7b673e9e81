"""The shell scripts Pulumi runs on the deploying machine, run for real against stub CLIs.

Each stub is a small bash script on PATH that logs its arguments, one call per line, and answers by
argument pattern. PATH is the stub directory plus /usr/bin:/bin, so no real kubectl or istioctl is used.

Every script test runs three times: under bash, under `bash --posix` and under dash. The scripts must run
on macOS's /bin/bash 3.2, which cannot be installed here; keeping them to POSIX sh plus `local` (dash
runs nothing else) and rejecting the constructs that differ statically (at the end of this file) is the
proof that they do.
"""

from __future__ import annotations

import json
import re
import shlex
import shutil
import subprocess
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.conftest import Evaluate
from tools.mock_engine import Evaluation

SCRIPTS = Path(__file__).resolve().parent.parent / "scripts"
SYSTEM_PATH = "/usr/bin:/bin"


def _shell(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        raise RuntimeError(f"the script tests need {name} (Debian/Ubuntu: apt-get install {name})")
    return path


# How pulumi-command runs a script (`<shell> -c <text>`), under each shell the scripts must work in.
SHELLS = {
    "bash": [_shell("bash"), "-c"],
    "bash-posix": [_shell("bash"), "--posix", "-c"],
    "dash": [_shell("dash"), "-c"],
}


@dataclass(frozen=True)
class Reply:
    """What a stub answers when its arguments contain `pattern` (the first matching reply wins)."""

    pattern: str
    stdout: str = ""
    stderr: str = ""
    status: int = 0


@dataclass(frozen=True)
class Run:
    status: int
    stdout: str
    stderr: str
    calls: dict[str, list[str]]


class Stubs:
    """Stub executables in a temporary directory, each logging to `<name>.log`."""

    def __init__(self, root: Path, shell: Sequence[str]) -> None:
        self.bin = root / "bin"
        self.bin.mkdir()
        self.home = root
        self.shell = list(shell)

    def add(self, name: str, *replies: Reply) -> None:
        """A stub answering by pattern; any other call is logged as unexpected and fails."""
        unexpected = shlex.quote(str(self.home / "unexpected.log"))
        cases = "".join(
            f"  *{shlex.quote(reply.pattern)}*)\n"
            f"    printf '%s' {shlex.quote(reply.stdout)}\n"
            f"    printf '%s' {shlex.quote(reply.stderr)} >&2\n"
            f"    exit {reply.status} ;;\n"
            for reply in replies
        )
        fallback = f"  *)\n    printf '%s\\n' {shlex.quote(name)}\" $*\" >> {unexpected}\n    exit 97 ;;\n"
        self.add_script(name, f'case "$*" in\n{cases}{fallback}esac\n')

    def add_script(self, name: str, body: str) -> None:
        """A stub with its own bash body, after the common preamble that logs the call."""
        log = shlex.quote(str(self.log(name)))
        path = self.bin / name
        path.write_text(f"#!/bin/bash\nprintf '%s\\n' \"$*\" >> {log}\n{body}")
        path.chmod(0o755)

    def log(self, name: str) -> Path:
        return self.home / f"{name}.log"

    def unexpected_calls(self) -> list[str]:
        log = self.home / "unexpected.log"
        return log.read_text().splitlines() if log.exists() else []

    def calls(self, name: str) -> list[str]:
        log = self.log(name)
        return log.read_text().splitlines() if log.exists() else []

    def run(self, script: str, system_path: str = SYSTEM_PATH, timeout: float = 10, **environment: str) -> Run:
        """Run the script's text the way pulumi-command does; `system_path=""` leaves only the stubs on PATH."""
        path = f"{self.bin}:{system_path}" if system_path else str(self.bin)
        env = {"PATH": path, "HOME": str(self.home), "LC_ALL": "C", **environment}
        result = subprocess.run(
            [*self.shell, (SCRIPTS / script).read_text()],
            env=env,
            cwd=self.home,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
        names = [path.name for path in self.bin.iterdir()]
        return Run(result.returncode, result.stdout, result.stderr, {name: self.calls(name) for name in names})


@pytest.fixture(params=list(SHELLS))
def stubs(tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[Stubs]:
    stubs = Stubs(tmp_path, SHELLS[request.param])
    yield stubs
    # A call no reply matches would answer nothing, which some scripts would read as "all is well".
    assert stubs.unexpected_calls() == []


# --- verify-mesh.sh ----------------------------------------------------------------------------------------

RUNNING = "--field-selector=status.phase=Running"
GATEWAY = "get gateways.gateway.networking.k8s.io ingress -n istio-gateway"
FAST = {"TIMEOUT_SECONDS": "0", "INTERVAL_SECONDS": "0"}
VERIFY = {"NAMESPACES": "demo-apps tekton-builds", "GATEWAY_NAME": "ingress", "GATEWAY_NAMESPACE": "istio-gateway"}

RUNNING_PODS = [
    Reply(f"-n demo-apps -l !gateway.istio.io/managed,istio.io/dataplane-mode!=none {RUNNING}", "web-1\napi-7\n"),
    Reply(f"-n tekton-builds -l !gateway.istio.io/managed,istio.io/dataplane-mode!=none {RUNNING}", "build-3\n"),
]
PROGRAMMED = Reply(GATEWAY, "True 192.168.1.240")


def ztunnel_workloads(*rows: tuple[str, str, str]) -> Reply:
    """`istioctl ztunnel-config workloads` output: (namespace, pod, protocol) per row."""
    table = "NAMESPACE     POD NAME   ADDRESS    NODE   WAYPOINT PROTOCOL\n" + "".join(
        f"{namespace} {pod} 10.42.0.{index} node-1 None {protocol}\n"
        for index, (namespace, pod, protocol) in enumerate(rows)
    )
    return Reply("ztunnel-config workloads", table)


def test_verify_passes_when_every_pod_is_on_hbone_per_istioctl(stubs: Stubs) -> None:
    stubs.add("kubectl", *RUNNING_PODS, PROGRAMMED)
    stubs.add(
        "istioctl",
        ztunnel_workloads(
            ("demo-apps", "api-7", "HBONE"),
            ("demo-apps", "web-1", "HBONE"),
            ("tekton-builds", "build-3", "HBONE"),
            ("istio-gateway", "ingress-istio-5d8", "TCP"),
        ),
    )

    result = stubs.run("verify-mesh.sh", **VERIFY, **FAST, KUBE_CONTEXT="homelab")

    assert result.status == 0, result.stderr
    assert "mesh verified: namespaces [demo-apps tekton-builds] on HBONE" in result.stdout
    assert "gateway istio-gateway/ingress programmed at 192.168.1.240" in result.stdout
    assert result.calls["istioctl"] == ["--context homelab ztunnel-config workloads"] * 2
    assert all(call.startswith("--context homelab ") for call in result.calls["kubectl"])


def test_verify_falls_back_to_the_redirection_annotation_without_istioctl(stubs: Stubs) -> None:
    assert shutil.which("istioctl", path=f"{stubs.bin}:{SYSTEM_PATH}") is None
    stubs.add(
        "kubectl",
        *RUNNING_PODS,
        PROGRAMMED,
        Reply("get pods -n demo-apps -o jsonpath=", "api-7 enabled\nweb-1 enabled\nold-job-1 \n"),
        Reply("get pods -n tekton-builds -o jsonpath=", "build-3 enabled\n"),
    )

    result = stubs.run("verify-mesh.sh", **VERIFY, **FAST)

    assert result.status == 0, result.stderr
    assert "mesh verified" in result.stdout
    annotation_queries = [call for call in result.calls["kubectl"] if "ambient\\.istio\\.io/redirection" in call]
    assert len(annotation_queries) == 2
    assert not any("--context" in call for call in result.calls["kubectl"])


def test_verify_fails_naming_the_pod_that_is_only_tcp(stubs: Stubs) -> None:
    stubs.add("kubectl", *RUNNING_PODS, PROGRAMMED)
    stubs.add(
        "istioctl",
        ztunnel_workloads(
            ("demo-apps", "api-7", "HBONE"),
            ("demo-apps", "web-1", "TCP"),
            ("tekton-builds", "build-3", "HBONE"),
        ),
    )

    result = stubs.run("verify-mesh.sh", **VERIFY, **FAST)

    assert result.status != 0
    assert "namespace demo-apps: pods not on HBONE: web-1" in result.stderr
    assert "tekton-builds" not in result.stderr.split("What to look at")[0]
    assert "ztunnel's logs: kubectl logs -n istio-system -l app=ztunnel" in result.stderr
    assert "mesh verified" not in result.stdout


def test_verify_fails_naming_the_pod_without_the_annotation(stubs: Stubs) -> None:
    stubs.add(
        "kubectl",
        *RUNNING_PODS,
        PROGRAMMED,
        Reply("get pods -n demo-apps -o jsonpath=", "api-7 enabled\nweb-1 \n"),
        Reply("get pods -n tekton-builds -o jsonpath=", "build-3 enabled\n"),
    )

    result = stubs.run("verify-mesh.sh", **VERIFY, **FAST)

    assert result.status != 0
    assert "namespace demo-apps: pods not on HBONE: web-1" in result.stderr
    assert "ztunnel" in result.stderr


def test_verify_fails_naming_the_gateway_that_is_not_programmed(stubs: Stubs) -> None:
    stubs.add("kubectl", *RUNNING_PODS, Reply(GATEWAY, "False "))
    stubs.add(
        "istioctl",
        ztunnel_workloads(
            ("demo-apps", "api-7", "HBONE"), ("demo-apps", "web-1", "HBONE"), ("tekton-builds", "build-3", "HBONE")
        ),
    )

    result = stubs.run("verify-mesh.sh", **VERIFY, **FAST)

    assert result.status != 0
    assert "gateway istio-gateway/ingress: Programmed=False, address=none" in result.stderr
    assert "pods not on HBONE" not in result.stderr


# --- wait-for-metallb-webhook.sh ---------------------------------------------------------------------------


def pool(name: str, cidr: str) -> dict[str, object]:
    return {
        "apiVersion": "metallb.io/v1beta1",
        "kind": "IPAddressPool",
        "metadata": {"name": name, "namespace": "metallb-system"},
        "spec": {"addresses": [cidr], "autoAssign": True},
    }


POOL_MANIFEST = json.dumps(
    {
        "apiVersion": "v1",
        "kind": "List",
        "items": [pool("homelab-lan", "192.168.1.240/29"), pool("lab-v6", "fd00:10::/120")],
    }
)
REFUSED = (
    'Error from server (InternalError): error when creating "STDIN": Internal error occurred: failed calling '
    'webhook "ipaddresspoolvalidationwebhook.metallb.io": Post "https://metallb-webhook-service.metallb-system.svc'
    ':443/validate-metallb-io-v1beta1-ipaddresspool": dial tcp 10.43.12.7:443: connect: connection refused'
)
DENIED = (
    'Error from server (Forbidden): error when creating "STDIN": admission webhook '
    '"ipaddresspoolvalidationwebhook.metallb.io" denied the request: CIDR "192.168.1.240/28" overlaps with CIDR '
    '"192.168.1.240/29"'
)


def counting_kubectl(stubs: Stubs, failures: int, error: str) -> None:
    """Fails `failures` times with `error` (call N says which call it was), then succeeds; keeps stdin."""
    count = shlex.quote(str(stubs.home / "count"))
    stdin = shlex.quote(str(stubs.home / "stdin"))
    stubs.add_script(
        "kubectl",
        f"cat > {stdin}\n"
        f"calls=$(( $(cat {count} 2>/dev/null || echo 0) + 1 )); echo $calls > {count}\n"
        f'if [ $calls -le {failures} ]; then echo "call $calls: "{shlex.quote(error)} >&2; exit 1; fi\n'
        "echo 'ipaddresspool.metallb.io/homelab-lan created (server dry run)'\n",
    )


def test_webhook_wait_retries_until_the_webhook_answers(stubs: Stubs) -> None:
    counting_kubectl(stubs, failures=2, error=REFUSED)

    result = stubs.run(
        "wait-for-metallb-webhook.sh",
        POOL_MANIFEST=POOL_MANIFEST,
        TIMEOUT_SECONDS="60",
        INTERVAL_SECONDS="0",
        KUBE_CONTEXT="homelab",
    )

    assert result.status == 0, result.stderr
    assert result.stdout.strip() == "MetalLB webhook is serving"
    assert result.calls["kubectl"] == ["--context homelab apply --dry-run=server -f -"] * 3
    assert (stubs.home / "stdin").read_text() == POOL_MANIFEST


def test_webhook_wait_dry_runs_every_pool_the_stack_creates(stubs: Stubs, run: Evaluate) -> None:
    evaluation = run(
        {
            "addressPools": [
                {"name": "lan", "addresses": ["192.168.1.240-192.168.1.250"]},
                {"name": "lan-v6", "addresses": ["fd00:10::/120"], "autoAssign": False},
            ]
        }
    )
    environment = evaluation.named("metallb-webhook-ready").inputs["environment"]
    counting_kubectl(stubs, failures=0, error="")

    result = stubs.run("wait-for-metallb-webhook.sh", **environment, INTERVAL_SECONDS="0")

    assert result.status == 0, result.stderr
    dry_run = json.loads((stubs.home / "stdin").read_text())
    assert [item["metadata"]["name"] for item in dry_run["items"]] == ["lan", "lan-v6"]
    assert [item["spec"]["addresses"] for item in dry_run["items"]] == [
        ["192.168.1.240-192.168.1.250"],
        ["fd00:10::/120"],
    ]


def test_webhook_wait_fails_fast_when_the_webhook_denies_a_pool(stubs: Stubs) -> None:
    counting_kubectl(stubs, failures=100, error=DENIED)

    result = stubs.run(
        "wait-for-metallb-webhook.sh", POOL_MANIFEST=POOL_MANIFEST, TIMEOUT_SECONDS="300", INTERVAL_SECONDS="0"
    )

    assert result.status != 0
    assert len(result.calls["kubectl"]) == 1
    assert "MetalLB rejected an address pool" in result.stderr
    assert 'denied the request: CIDR "192.168.1.240/28" overlaps' in result.stderr


def test_webhook_wait_gives_up_after_the_timeout_with_the_last_error(stubs: Stubs) -> None:
    counting_kubectl(stubs, failures=100, error=REFUSED)

    result = stubs.run(
        "wait-for-metallb-webhook.sh", POOL_MANIFEST=POOL_MANIFEST, TIMEOUT_SECONDS="0", INTERVAL_SECONDS="0"
    )

    assert result.status != 0
    assert len(result.calls["kubectl"]) == 1
    assert f"did not answer within 0s. Last error: call 1: {REFUSED}" in result.stderr
    assert "kubectl -n metallb-system logs deploy/metallb-controller" in result.stderr


def test_webhook_wait_requires_the_manifest(stubs: Stubs) -> None:
    stubs.add("kubectl")

    result = stubs.run("wait-for-metallb-webhook.sh")

    assert result.status != 0
    assert "POOL_MANIFEST is required" in result.stderr
    assert result.calls["kubectl"] == []


# --- unenrol-namespace.sh ----------------------------------------------------------------------------------

LOOKUP = "get namespace demo-apps --ignore-not-found -o name"
EXISTING_NAMESPACE = [
    Reply(LOOKUP, "namespace/demo-apps\n"),
    Reply("get deployment -n demo-apps -o name", "deployment.apps/web\ndeployment.apps/api\n"),
    Reply("get daemonset -n demo-apps -o name", "daemonset.apps/log-shipper\n"),
    Reply("get statefulset -n demo-apps -o name", ""),
    Reply(
        "label namespace demo-apps istio.io/dataplane-mode- istio.io/use-waypoint-", "namespace/demo-apps unlabeled\n"
    ),
    Reply("rollout restart deployment -n demo-apps", "deployment.apps/web restarted\ndeployment.apps/api restarted\n"),
    Reply("rollout restart daemonset -n demo-apps", "daemonset.apps/log-shipper restarted\n"),
]


@pytest.mark.parametrize(
    ("environment", "context"),
    [({"KUBE_CONTEXT": "homelab"}, "--context homelab "), ({}, "")],
    ids=["with-context", "current-context"],
)
def test_unenrol_drops_the_labels_and_restarts_workloads(
    stubs: Stubs, environment: dict[str, str], context: str
) -> None:
    stubs.add("kubectl", *EXISTING_NAMESPACE)

    result = stubs.run("unenrol-namespace.sh", NAMESPACE="demo-apps", **environment)

    assert result.status == 0, result.stderr
    assert result.calls["kubectl"] == [
        f"{context}{LOOKUP}",
        f"{context}label namespace demo-apps istio.io/dataplane-mode- istio.io/use-waypoint-",
        f"{context}get deployment -n demo-apps -o name",
        f"{context}rollout restart deployment -n demo-apps",
        f"{context}get statefulset -n demo-apps -o name",
        f"{context}get daemonset -n demo-apps -o name",
        f"{context}rollout restart daemonset -n demo-apps",
    ]
    assert "left the mesh" in result.stdout


def test_unenrol_does_nothing_when_the_namespace_is_gone(stubs: Stubs) -> None:
    # kubectl get --ignore-not-found: a missing object prints nothing and exits 0.
    stubs.add("kubectl", Reply(LOOKUP, ""))

    result = stubs.run("unenrol-namespace.sh", NAMESPACE="demo-apps", KUBE_CONTEXT="homelab")

    assert result.status == 0, result.stderr
    assert result.calls["kubectl"] == [f"--context homelab {LOOKUP}"]
    assert "namespace demo-apps no longer exists: nothing to un-enrol" in result.stdout


@pytest.mark.parametrize(
    "kubectl_error",
    [
        "The connection to the server 192.168.1.10:6443 was refused - did you specify the right host or port?",
        'error: context "homelab" does not exist',
        'Error from server (Forbidden): namespaces "demo-apps" is forbidden: User "ci" cannot get resource '
        '"namespaces" in API group "" in the namespace "demo-apps"',
    ],
    ids=["unreachable", "unknown-context", "forbidden"],
)
def test_unenrol_fails_when_the_namespace_cannot_be_read(stubs: Stubs, kubectl_error: str) -> None:
    stubs.add("kubectl", Reply(LOOKUP, stderr=kubectl_error + "\n", status=1))

    result = stubs.run("unenrol-namespace.sh", NAMESPACE="demo-apps", KUBE_CONTEXT="homelab")

    assert result.status != 0
    assert kubectl_error in result.stderr
    assert "un-enrol demo-apps: cannot read the namespace" in result.stderr
    assert "no longer exists" not in result.stdout
    assert result.calls["kubectl"] == [f"--context homelab {LOOKUP}"]


def test_unenrol_fails_when_the_label_cannot_be_removed(stubs: Stubs) -> None:
    stubs.add(
        "kubectl",
        Reply(LOOKUP, "namespace/demo-apps\n"),
        Reply("label namespace", stderr='error: namespaces "demo-apps" is forbidden\n', status=1),
    )

    result = stubs.run("unenrol-namespace.sh", NAMESPACE="demo-apps")

    assert result.status != 0
    assert "forbidden" in result.stderr
    assert "cannot remove the mesh labels" in result.stderr
    assert not any("rollout restart" in call for call in result.calls["kubectl"])


def test_unenrol_fails_when_workloads_cannot_be_listed(stubs: Stubs) -> None:
    stubs.add(
        "kubectl",
        Reply(LOOKUP, "namespace/demo-apps\n"),
        Reply("label namespace", "namespace/demo-apps unlabeled\n"),
        Reply("get deployment", stderr="Unable to connect to the server: i/o timeout\n", status=1),
    )

    result = stubs.run("unenrol-namespace.sh", NAMESPACE="demo-apps")

    assert result.status != 0
    assert "i/o timeout" in result.stderr
    assert "cannot list deployments" in result.stderr
    assert "left the mesh" not in result.stdout
    assert not any("rollout restart" in call or "statefulset" in call for call in result.calls["kubectl"])


# --- every script: a missing tool is named ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("script", "environment", "tool"),
    [
        ("unenrol-namespace.sh", {"NAMESPACE": "demo-apps"}, "kubectl"),
        ("wait-for-metallb-webhook.sh", {"POOL_MANIFEST": POOL_MANIFEST}, "kubectl"),
        ("verify-mesh.sh", {"NAMESPACES": "demo-apps"}, "kubectl"),
        ("check-front-door.sh", {"HOSTNAMES": "demo-app1.local", "GATEWAY_ADDRESS": "192.0.2.10"}, "curl"),
        (
            "check-front-door.sh",
            {
                "HOSTNAMES": "demo-app1.local",
                "GATEWAY_ADDRESS": "192.0.2.10",
                "ROUTE_RULES": "demo-app1.local demo-apps demo-app1 /\n",
            },
            "kubectl",
        ),
    ],
    ids=["unenrol", "metallb-webhook", "verify-mesh", "front-door-curl", "front-door-kubectl"],
)
def test_a_missing_tool_fails_naming_it(stubs: Stubs, script: str, environment: dict[str, str], tool: str) -> None:
    # Only the stub directory is on PATH, so no system kubectl or curl can be found; the other tool is stubbed.
    for other in {"kubectl", "curl"} - {tool}:
        stubs.add(other)

    result = stubs.run(script, system_path="", **environment)

    assert result.status == 127
    assert f"{tool} is not on PATH" in result.stderr
    assert all(calls == [] for calls in result.calls.values())


# --- every script: only constructs that behave the same in bash 3.2, bash 5 and POSIX sh ---------------------

COMMAND = r"(?:^\s*|[;&|({]\s*|\b(?:then|do|else|if|while|until|!)\s+)"
NOT_PORTABLE = {
    "array assignment": r"\b\w+\+?=\(",
    "array subscript": r"\$\{[#!]?\w+\[",
    "append assignment": r"\b\w+\+=",
    "case modification": r"\$\{\w+(?:,,?|\^\^?)",
    "substring expansion": r"\$\{\w+:[0-9 ]",
    "pattern substitution": r"\$\{\w+//?",
    "indirect expansion": r"\$\{!",
    "bash-only builtin": COMMAND + r"(?:mapfile|readarray|declare|typeset|shopt|coproc|source|function|let|select)\b",
    "&> redirection": r"&>",
    "|& pipe": r"\|&",
    "case fall-through": r";;?&",
    "[[ test": r"\[\[",
    "regex match": r"=~",
    "here-string": r"<<<",
    "process substitution": r"[<>]\(",
    "(( arithmetic command": r"(?<![$(])\(\(",
    "ANSI-C quoting": r"\$'",
    "bash-only variable": r"\b(?:EPOCHREALTIME|EPOCHSECONDS|SECONDS|RANDOM|BASH_REMATCH|BASH_VERSINFO|PIPESTATUS)\b",
    "printf -v": r"\bprintf\s+-v\b",
    "read option other than -r": r"\bread\s+-[a-zA-Z]*[a-qs-z]",
    "local option": r"\blocal\s+-",
    "echo option": r"\becho\s+-[neE]+\b",
    "wait -n": r"\bwait\s+-n\b",
    "pipefail": r"\bpipefail\b",
    "export -f": r"\bexport\s+-f\b",
}


def not_portable(text: str) -> list[str]:
    """`line: construct` for each construct in a script (comment lines aside) that is not POSIX sh."""
    found = []
    for number, line in enumerate(text.splitlines(), 1):
        if line.lstrip().startswith("#"):
            continue
        found += [f"{number}: {name}" for name, pattern in NOT_PORTABLE.items() if re.search(pattern, line)]
    return found


@pytest.mark.parametrize("script", sorted(path.name for path in SCRIPTS.glob("*.sh")))
def test_scripts_use_only_portable_constructs(script: str) -> None:
    assert not_portable((SCRIPTS / script).read_text()) == []


@pytest.mark.parametrize(
    ("snippet", "construct"),
    [
        ('context=(--context "$KUBE_CONTEXT")', "array assignment"),
        ('kubectl "${context[@]}" get pods', "array subscript"),
        ('if [ "${#problems[@]}" -eq 0 ]; then', "array subscript"),
        ('problems+=("namespace $ns")', "array assignment"),
        ("total+=1", "append assignment"),
        ('echo "${name,,}"', "case modification"),
        ('echo "${name^^}"', "case modification"),
        ('echo "${name:0:3}"', "substring expansion"),
        ('echo "${name//-/_}"', "pattern substitution"),
        ('echo "${!name}"', "indirect expansion"),
        ("mapfile -t pods < <(kubectl get pods)", "bash-only builtin"),
        ("  readarray -t lines", "bash-only builtin"),
        ("declare -A seen", "bash-only builtin"),
        ("kubectl get pods &>>log", "&> redirection"),
        ("kubectl get pods &>/dev/null", "&> redirection"),
        ("kubectl get pods |& tee log", "|& pipe"),
        ("  a) echo a ;&", "case fall-through"),
        ("  a) echo a ;;&", "case fall-through"),
        ('if [[ -n "$x" ]]; then', "[[ test"),
        ('if [ "$x" =~ ^a ]; then', "regex match"),
        ('read -r a b <<<"$state"', "here-string"),
        ("comm -23 <(sort a) <(sort b)", "process substitution"),
        ("(( count++ ))", "(( arithmetic command"),
        ("echo $'tab\\there'", "ANSI-C quoting"),
        ("deadline=$((SECONDS + 10))", "bash-only variable"),
        ('start="$EPOCHREALTIME"', "bash-only variable"),
        ('printf -v now "%(%s)T" -1', "printf -v"),
        ("read -ra parts", "read option other than -r"),
        ("local -n ref=$1", "local option"),
        ("echo -e 'a\\nb'", "echo option"),
        ("wait -n", "wait -n"),
        ("set -euo pipefail", "pipefail"),
        ("export -f kube", "export -f"),
        ("function kube() {", "bash-only builtin"),
        ("source ./lib.sh", "bash-only builtin"),
    ],
)
def test_the_portability_check_rejects_bash_only_constructs(snippet: str, construct: str) -> None:
    assert f"1: {construct}" in not_portable(snippet)


def test_the_portability_check_accepts_posix_sh() -> None:
    posix = """
    set -uf
    deadline=$(($(date +%s) + timeout_seconds))
    case "$state" in *" "*) address=${state#* } ;; *) address="" ;; esac
    kube() { kubectl --context "$KUBE_CONTEXT" "$@" </dev/null; }
    while read -r host path; do problems="${problems}  - $host${path:-/}"; done <<EOF
    output=$(kubectl get pods -o jsonpath='{range .items[*]}{.metadata.name}{"\\n"}{end}' 2>"$errors") || exit 1
    local namespace running
    echo "front door verified" >&2
    """
    assert not_portable(posix) == []


# --- the interpreter: no Pulumi credentials reach a script ----------------------------------------------------

PULUMI_VARIABLES = {
    "PULUMI_CONFIG_PASSPHRASE": "correct horse battery staple",
    "PULUMI_CONFIG_PASSPHRASE_FILE": "/home/runner/.pulumi-passphrase",
    "PULUMI_ACCESS_TOKEN": "pul-0123456789abcdef",
    "PULUMI_BACKEND_URL": "s3://homelab-state/homelab-mesh",
    "PULUMI_CONFIG": '{"homelab-mesh:tlsPrivateKey": "-----BEGIN PRIVATE KEY-----"}',
    "PULUMI_SOME_FUTURE_SECRET": "not yet named anywhere",
}


def test_scripts_run_without_any_pulumi_variable(homelab: Evaluation, tmp_path: Path) -> None:
    commands = homelab.of_type("command:local:Command")
    assert {command.name for command in commands} >= {"metallb-webhook-ready", "verify-mesh", "check-front-door"}
    kept = {
        "PATH": SYSTEM_PATH,
        "HOME": str(tmp_path),
        "KUBECONFIG": str(tmp_path / "kubeconfig"),
        # A value spanning lines, one of which looks like a Pulumi variable, arrives untouched.
        "NOTES": "first line\nPULUMI_ACCESS_TOKEN=inside a value\n",
    }
    for command in commands:
        recorded = command.inputs
        # pulumi-command runs interpreter + [script] with its own environment plus the command's.
        result = subprocess.run(
            [*recorded["interpreter"], "env -0"],
            env={**PULUMI_VARIABLES, **kept, **recorded["environment"]},
            capture_output=True,
            text=True,
            timeout=10,
            check=False,
        )
        assert result.returncode == 0, (command.name, result.stderr)
        received = dict(item.split("=", 1) for item in result.stdout.split("\0") if item)
        assert not [name for name in received if name.startswith("PULUMI_")], command.name
        for name, value in {**kept, **recorded["environment"]}.items():
            assert received.get(name) == value, (command.name, name)
