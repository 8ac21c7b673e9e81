"""State written by earlier code keeps working: the upgrade record's provider, as the state holds it.

Pulumi's dynamic provider host deserialises the provider from the record's state (`__provider`, dill) before
it can check, update or delete the record. dill records `components.version_record.VersionRecordProvider` by
module and class name, so moving or renaming either would strand every existing stack: this test loads the
exact value main registered at 7c453f7 the way the host does (pulumi 3.272.0, pulumi/dynamic/__main__.py
`get_provider`: base64, then `dill.loads`; that module runs the host's server on import, so its two steps are
repeated here), in a fresh interpreter started in the project directory as the host is, and asks it to check
an upgrade step.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
STORED = (ROOT / "tests" / "state" / "version-record-provider.txt").read_text().splitlines()[-1]

HOST = """
import base64, json, sys
import dill
from pulumi.dynamic import ResourceProvider
provider = dill.loads(base64.b64decode(sys.argv[1]))
assert isinstance(provider, ResourceProvider), type(provider)
olds = {"istioVersion": "1.28.2", "gatewayApiVersion": "v1.4.1"}
results = {}
for name, news in {
    "next minor": {"istioVersion": "1.29.9", "gatewayApiVersion": "v1.4.1"},
    "skipped minor": {"istioVersion": "1.30.5", "gatewayApiVersion": "v1.5.1"},
}.items():
    checked = provider.check(olds, news)
    results[name] = [failure.reason for failure in checked.failures or []]
results["diff"] = provider.diff("versions", olds, {"istioVersion": "1.29.9", "gatewayApiVersion": "v1.4.1"}).changes
print(json.dumps(results))
"""


def test_the_stored_record_provider_loads_and_checks_with_todays_code() -> None:
    result = subprocess.run(
        [sys.executable, "-c", HOST, STORED],
        cwd=ROOT,
        # The project directory, where the host starts, and the package as installed in the program's venv.
        env={"PYTHONPATH": f"{ROOT}:{ROOT / 'components'}", "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    results = json.loads(result.stdout)
    assert results["next minor"] == []
    (refusal,) = results["skipped minor"]
    assert "skips Istio minors" in refusal
    assert results["diff"] is True
