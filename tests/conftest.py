"""The one test harness: evaluate the real program on the mock engine and inspect what it registered."""

from __future__ import annotations

import fcntl
import gc
import json
import shutil
import subprocess
import sys
import sysconfig
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))
import tools  # noqa: E402,F401  (puts the package's working tree, components/, on the import path)

# isort: split
from homelab_mesh.settings import ConfigError  # noqa: E402

from tests.stubs import SHELLS, Stubs  # noqa: E402
from tools.mock_engine import Evaluation, evaluate  # noqa: E402

Evaluate = Callable[..., Evaluation]


@pytest.fixture(scope="session")
def homelab() -> Evaluation:
    """The homelab stack as committed, evaluated once for the read-only tests."""
    return evaluate("homelab")


_EVALUATED: dict[str, Evaluation] = {}


@pytest.fixture
def run() -> Evaluate:
    """Evaluate a stack with config overrides: run(overrides={...}, secrets={...}, stack=..., stack_file=...,
    recorded={dynamic resource name: the state a previous deployment left},
    cluster_report=<what the cluster inspection answers with adoptExisting>)."""

    def _run(
        overrides: Mapping[str, Any] | None = None,
        secrets: Mapping[str, str] | None = None,
        stack: str = "homelab",
        stack_file: Path | None = None,
        recorded: Mapping[str, Mapping[str, Any]] | None = None,
        cluster_report: str | None = None,
    ) -> Evaluation:
        # The same config always gives the same registrations (tests/test_determinism.py), so one evaluation
        # serves every test that asks for it; tests only read what it recorded.
        key = json.dumps(
            [stack, overrides, secrets, str(stack_file), recorded, cluster_report], sort_keys=True, default=str
        )
        if key not in _EVALUATED:
            report = {"cluster_report": cluster_report} if cluster_report is not None else {}
            _EVALUATED[key] = evaluate(
                stack, overrides=overrides, secrets=secrets, stack_file=stack_file, recorded=recorded, **report
            )
            # Kept for the whole session: out of the collector's sight, so that its full collections do not
            # rescan every evaluation so far (a tenth of the suite's time before).
            gc.collect()
            gc.freeze()
        return _EVALUATED[key]

    return _run


@pytest.fixture
def config_error() -> Callable[..., ConfigError]:
    """Evaluate a stack that must be rejected; return the error after checking nothing was registered."""

    def _config_error(
        overrides: Mapping[str, Any] | None = None,
        secrets: Mapping[str, str] | None = None,
        stack: str = "homelab",
        stack_file: Path | None = None,
    ) -> ConfigError:
        registered: list[str] = []
        import tools.mock_engine as engine

        original = engine.RecordingMonitor.RegisterResource

        def spy(self: Any, request: Any) -> Any:
            if request.type != "pulumi:pulumi:Stack":
                registered.append(request.name)
            return original(self, request)

        engine.RecordingMonitor.RegisterResource = spy  # type: ignore[method-assign]
        try:
            with pytest.raises(ConfigError) as caught:
                evaluate(stack, overrides=overrides, secrets=secrets, stack_file=stack_file)
        finally:
            engine.RecordingMonitor.RegisterResource = original  # type: ignore[method-assign]
        assert registered == [], f"resources registered before the config error: {registered}"
        return caught.value

    return _config_error


@pytest.fixture(params=list(SHELLS))
def stubs(tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[Stubs]:
    """Stub CLIs for a script test, which runs once under each shell the scripts must work in."""
    stub_clis = Stubs(tmp_path, SHELLS[request.param])
    yield stub_clis
    # A call no reply matches would answer nothing, which some scripts would read as "all is well".
    assert stub_clis.unexpected_calls() == []


@pytest.fixture(scope="session")
def provided() -> Evaluation:
    """The homelab stack in tlsMode provided, with a real certificate for its hostnames (tests/certificates.py)."""
    from tests.certificates import homelab_pem

    return evaluate(
        "homelab", overrides={"tlsMode": "provided", "caValidityDays": None}, secrets=homelab_pem().secrets()
    )


def installed_venv(wheel: Path, venv: Path) -> Path:
    """A fresh virtualenv with the package installed from the wheel alone; its dependencies come from this
    suite's virtualenv (a .pth file), never the package itself."""
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True, timeout=60)
    site = Path(sysconfig.get_path("purelib", vars={"base": str(venv), "platbase": str(venv)}))
    (site / "dependencies.pth").write_text(sysconfig.get_path("purelib") + "\n")
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--no-index", "--target", str(site), str(wheel)],
        check=True,
        capture_output=True,
        timeout=120,
    )
    return venv


@pytest.fixture(scope="session")
def wheel(tmp_path_factory: pytest.TempPathFactory, worker_id: str) -> Path:
    """The wheel, built once per run from a copy of components/ (setuptools writes build files into its
    source): the test workers share one build directory of the run, and the first to take its lock builds
    (pytest-xdist's recipe for a session fixture made once)."""
    base = tmp_path_factory.getbasetemp()
    shared = base if worker_id == "master" else base.parent
    out = shared / "wheel"
    with open(shared / "wheel.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        built = sorted(out.glob("homelab_mesh-*.whl"))
        if not built:
            source = shared / "wheel-source" / "components"
            shutil.copytree(
                ROOT / "components", source, ignore=shutil.ignore_patterns("__pycache__", "build", "*.egg-info", "venv")
            )
            subprocess.run(
                [
                    sys.executable,
                    "-m",
                    "pip",
                    "wheel",
                    "-q",
                    "--no-deps",
                    "--no-build-isolation",
                    str(source),
                    "-w",
                    str(out),
                ],
                check=True,
                capture_output=True,
                timeout=120,
            )
            built = sorted(out.glob("homelab_mesh-*.whl"))
    (only,) = built
    return only
