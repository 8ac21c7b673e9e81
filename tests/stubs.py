"""Stub CLIs for the script tests: each stub is a small bash script on PATH that logs its arguments, one
call per line, and answers by argument pattern. PATH is the stub directory plus /usr/bin:/bin, so no real
kubectl, istioctl or curl is used unless a test asks for the system PATH."""

from __future__ import annotations

import shlex
import shutil
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from homelab_mesh.scripts import script as script_text

SYSTEM_PATH = "/usr/bin:/bin"


def required(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        raise RuntimeError(f"the script tests need {name} on PATH (Debian/Ubuntu: apt-get install {name})")
    return path


# How pulumi-command runs a script (`<shell> -c <text>`), under each shell the scripts must work in.
SHELLS = {
    "bash": [required("bash"), "-c"],
    "dash": [required("dash"), "-c"],
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
            # The text pulumi-command runs: shared helpers in place.
            [*self.shell, script_text(script)],
            env=env,
            cwd=self.home,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
        names = [path.name for path in self.bin.iterdir()]
        return Run(result.returncode, result.stdout, result.stderr, {name: self.calls(name) for name in names})
