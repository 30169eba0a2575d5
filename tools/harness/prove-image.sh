#!/usr/bin/env bash
# Proves the OpenCode server image for real: builds containers/opencode-server/Containerfile with Podman, runs it and
# checks what the proposal asks (a-g). One command on a fresh Debian 12 machine:
#
#   bash tools/harness/prove-image.sh [--keep] [--extra-ca-dir DIR] [--containerfile FILE]
#
# --keep            leave the containers it started (stopped) and name them (default: remove them)
# --extra-ca-dir    CA certificates (*.crt) the build must trust, e.g. a TLS-intercepting proxy's; default
#                   /usr/local/share/ca-certificates when it has any. They go into a local derived base image
#                   (tools/make-ca-base.sh, localhost/node:20-slim-with-ca, kept) passed as BASE_IMAGE, never into
#                   the Containerfile.
# --containerfile   another Containerfile to prove (path inside the repository), default the committed one
#
# The checks are the pytest suite tests/acceptance, shared with the other image tests (tests/support/podman.py); this
# prints one line per check, then "N passed, M failed", then, when all passed, how to run the image from a plain
# shell: it stays as localhost/opencode-server:latest in the harness's Podman store, ~/.cache/opencode-server-harness
# (HARNESS_WORK_DIR), shared by every clone on the machine with the layer cache and the bases.
set -uo pipefail

HARNESS_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO_ROOT=$(cd "$HARNESS_DIR/../.." && pwd)
WORK_DIR=${HARNESS_WORK_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/opencode-server-harness}
ENGINE=podman

# The header comment above, up to the first line that is not a comment.
usage() { awk 'NR > 1 && !/^#/ {exit} NR > 1 {sub(/^# ?/, ""); print}' "${BASH_SOURCE[0]}"; }
usage_error() { echo "prove-image.sh: $1" >&2; echo >&2; usage >&2; exit 2; }
# option_value NAME VALUE: VALUE, or a usage error when it is missing or empty.
option_value() { [ -n "${2:-}" ] || usage_error "$1 needs a value"; printf '%s' "$2"; }
while [ $# -gt 0 ]; do
  case "$1" in
    --keep) export OPENCODE_SERVER_KEEP=1 ;;
    # An empty value is allowed here: it means "no extra CAs".
    --extra-ca-dir) [ $# -ge 2 ] || usage_error "--extra-ca-dir needs a directory (or \"\" for none)"
                    export OPENCODE_SERVER_EXTRA_CA_DIR=$2; shift ;;
    --extra-ca-dir=*) export OPENCODE_SERVER_EXTRA_CA_DIR=${1#*=} ;;
    --containerfile) OPENCODE_SERVER_CONTAINERFILE=$(option_value "$1" "${2:-}") || exit 2; export OPENCODE_SERVER_CONTAINERFILE; shift ;;
    --containerfile=*) OPENCODE_SERVER_CONTAINERFILE=$(option_value --containerfile "${1#*=}") || exit 2; export OPENCODE_SERVER_CONTAINERFILE ;;
    -h|--help) usage; exit 0 ;;
    *) usage_error "unknown option: $1" ;;
  esac
  shift
done

# shellcheck source=lib/report.sh
source "$HARNESS_DIR/lib/report.sh"
# shellcheck source=lib/engine.sh
source "$HARNESS_DIR/lib/engine.sh"
# shellcheck source=lib/image-usage.sh
source "$HARNESS_DIR/lib/image-usage.sh"

# What the checks run on: Debian's tools, the npm lockfile (the spec's own validation and acceptance script), the
# hashed Python test lock (pytest), each skipped when already installed from the same files.
install_debian_packages ca-certificates git python3-venv || exit 1
bash "$REPO_ROOT/tools/npm-ci-if-needed.sh" . >&2 || { echo "FAIL npm-ci"; exit 1; }
bash "$REPO_ROOT/tools/python-venv-if-needed.sh" >&2 || { echo "FAIL python-venv"; exit 1; }
prepare_engine >&2 || { echo "FAIL engine-setup"; exit 1; }

cd "$REPO_ROOT" || exit 1
OPENCODE_SERVER_BUILD_PROGRESS=1 \
.venv/bin/pytest -p no:cacheprovider -p no:terminal --capture=sys -p tests.support.check_lines tests/acceptance
status=$?
# Untagged build steps made more than a week ago go: the store does not grow without end (and a week-old cache is
# rebuilt, with Debian's updates).
engine image prune -f --filter until=168h >/dev/null 2>&1 || true
# A proved image stays, under one name, for the user to run.
if [ "$status" -eq 0 ] && engine tag "${OPENCODE_SERVER_IMAGE:-localhost/opencode-server:test}" "$KEPT_IMAGE"; then
  print_image_usage "$WORK_DIR"
fi
exit "$status"
