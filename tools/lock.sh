#!/usr/bin/env bash
# Regenerate the hash-locked requirement files from requirements.txt and requirements-dev.txt:
#
#   bash tools/lock.sh                  # re-resolve at the versions already locked where still allowed
#   bash tools/lock.sh --upgrade        # move every package to its newest allowed release
#
# uv is installed from tools/lock-tool.txt (one version, hash-checked) into a throwaway virtualenv, so the
# only prerequisite is python3; to move uv itself, regenerate that file with the command in its header.
# uv resolves against PyPI (uv's default index; --no-config ignores uv.toml files on the machine), for Python 3.11 on
# every platform (--universal), and writes every distribution's sha256 of each pinned release, so
# `pip install --require-hashes` works on Linux, macOS and Windows alike. The program's lock is resolved
# under the dev lock's pins (-c), so the program runs on exactly the versions the tests ran on.
set -euo pipefail
cd "$(dirname "$0")/.."

tools_venv="$(mktemp -d)"
trap 'rm -rf "$tools_venv"' EXIT
python3 -m venv "$tools_venv"
"$tools_venv/bin/pip" install -q --require-hashes -r tools/lock-tool.txt

compile() {
  "$tools_venv/bin/uv" pip compile --quiet --no-config --universal --python-version 3.11 --generate-hashes \
    --custom-compile-command "bash tools/lock.sh" "$@"
}
compile "$@" requirements-dev.txt -o requirements-dev.lock
compile "$@" requirements.txt -c requirements-dev.lock -o requirements.lock
