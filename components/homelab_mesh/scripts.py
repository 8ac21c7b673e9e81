"""Shell scripts that pulumi-command runs on the machine running `pulumi up` (kubectl on PATH)."""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path

# Package data: the scripts ship inside the package (components/pyproject.toml), found beside this module.
SCRIPTS = Path(__file__).resolve().parent / "scripts"

# pulumi-command runs the interpreter with the whole environment of the `pulumi` process, which holds the
# stack's credentials (PULUMI_CONFIG_PASSPHRASE, PULUMI_ACCESS_TOKEN, ...). This launcher unsets every
# exported PULUMI_* variable, named or not yet invented, then runs the script in a fresh bash. If the
# variables cannot be listed it refuses to run rather than pass them on. pulumi-command appends the script
# as the last argument, which the launcher receives as $1.
WITHOUT_PULUMI_VARIABLES = (
    'names=$(compgen -e) || { echo "cannot list the environment to remove PULUMI_* from it" >&2; exit 1; }; '
    'for name in $names; do case $name in PULUMI_*) unset "$name" || exit 1 ;; esac; done; '
    'exec /bin/bash -c "$1"'
)
BASH = ["/bin/bash", "-c", WITHOUT_PULUMI_VARIABLES, "homelab-mesh-script"]


# A line `# uses: lib/<file>.sh` in a script stands for that file's text: one copy of the shared helpers.
USES = re.compile(r"^# uses: (lib/[\w-]+\.sh)\n", re.MULTILINE)


@cache
def script(name: str) -> str:
    """The script's text, shared helpers in place, passed inline so that editing a script is a change
    Pulumi sees."""
    return USES.sub(lambda match: (SCRIPTS / match.group(1)).read_text(), (SCRIPTS / name).read_text())
