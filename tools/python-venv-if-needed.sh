#!/usr/bin/env bash
# A Python venv from a hashed lock, unless it was installed from that very lock:
#
#   bash tools/python-venv-if-needed.sh [VENV LOCK]      (default: .venv tests/requirements.lock, the test venv)
#
# tools/setup.sh makes the test venv and the deploy checkers' (.venv-deploy); the image's proof
# (tools/harness/prove-image.sh, whose checks run in pytest) the test venv.
set -euo pipefail
cd "$(dirname "$0")/.."
venv=${1:-.venv}
lock=${2:-tests/requirements.lock}
if [[ -x $venv/bin/python ]] && cmp -s "$lock" "$venv/.installed-lock"; then
  echo "python: $venv is current (installed from $lock)"
  exit 0
fi
echo "python: $venv from $lock"
python3 -m venv "$venv"
"$venv/bin/pip" install --quiet --disable-pip-version-check --require-hashes -r "$lock"
cp "$lock" "$venv/.installed-lock"
