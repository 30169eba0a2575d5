#!/usr/bin/env bash
# Builds the committed Containerfile with Podman, the same way prove-image.sh does, and tags it with a stable name so
# that runners in other languages (tests/support/podman.py) can use the image. Layer cache and base stay in the store.
#
#   bash tools/harness/build-image.sh [--tag REF] [--extra-ca-dir DIR] [--arch amd64|arm64] [--suite S]
#                                     [--node-version V] [--npm-version V] [--opencode-version V] [--no-cache]
#                                     [--containerfile PATH] [--config FILE] [--log FILE]
#
# --tag            the image reference to tag (default localhost/opencode-server:test, for arm64 ...:test-arm64)
# --extra-ca-dir   CA certificates (*.crt) the build must trust (default /usr/local/share/ca-certificates when it has
#                  any); they go into a local derived base passed as BASE_IMAGE, never into the Containerfile.
# --arch, --suite, --node-version, --npm-version
#                  the base (tools/harness/make-base.sh; default amd64, bookworm, 20.20.2): the image is built for
#                  linux/ARCH, under QEMU user emulation when that is not the host's (set up for the build and put
#                  back as it was found when it ends)
# --opencode-version
#                  the OPENCODE_VERSION build argument (default: the Containerfile's pin)
# --no-cache       build every step anew (benchmarks' cold builds; the new layers are cached for the next build)
# --containerfile  another Containerfile to build (a path in the repository, or absolute), default the committed one
# --config         build with FILE as config.json (the proof that a config OpenCode refuses stops the build)
# --log            where the build's output goes (default logs/build-image[-ARCH].log in the working folder)
#
# Working folder: HARNESS_WORK_DIR (default ~/.cache/opencode-server-harness), whose containers.conf/storage.conf
# tests/support/podman.py points Podman at. Progress goes to stderr; the only line on stdout is the tag.
set -euo pipefail

HARNESS_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO_ROOT=$(cd "$HARNESS_DIR/../.." && pwd)
WORK_DIR=${HARNESS_WORK_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/opencode-server-harness}
ENGINE=podman
TAG=""
SUITE=bookworm ARCH=amd64 NODE_VERSION=20.20.2 NPM_VERSION=""
CACHE_OPTION=()
VERSION_OPTION=()
EXTRA_CA_DIR=/usr/local/share/ca-certificates
CONTAINERFILE_IN_REPO=containers/opencode-server/Containerfile
CONFIG_FILE="" BUILD_LOG=""

while [ $# -gt 0 ]; do
  case "$1" in
    --tag) TAG=${2:?--tag needs an image reference}; shift ;;
    --tag=*) TAG=${1#*=} ;;
    --extra-ca-dir) EXTRA_CA_DIR=${2?--extra-ca-dir needs a directory (or "" for none)}; shift ;;
    --extra-ca-dir=*) EXTRA_CA_DIR=${1#*=} ;;
    --arch|--suite|--node-version|--npm-version)
      [ -n "${2:-}" ] || { echo "build-image.sh: $1 needs a value" >&2; exit 2; }
      case "$1" in --suite) SUITE=$2 ;; --arch) ARCH=$2 ;; --node-version) NODE_VERSION=$2 ;; --npm-version) NPM_VERSION=$2 ;; esac
      shift ;;
    --no-cache) CACHE_OPTION=(--no-cache) ;;
    --containerfile|--config|--log)
      [ -n "${2:-}" ] || { echo "build-image.sh: $1 needs a value" >&2; exit 2; }
      case "$1" in --containerfile) CONTAINERFILE_IN_REPO=$2 ;; --config) CONFIG_FILE=$2 ;; --log) BUILD_LOG=$2 ;; esac
      shift ;;
    --opencode-version)
      [ -n "${2:-}" ] || { echo "build-image.sh: $1 needs a value" >&2; exit 2; }
      VERSION_OPTION=(--build-arg "OPENCODE_VERSION=$2"); shift ;;
    -h|--help) awk 'NR > 1 && !/^#/ {exit} NR > 1 {sub(/^# ?/, ""); print}' "${BASH_SOURCE[0]}"; exit 0 ;;
    *) echo "unknown option: $1" >&2; exit 2 ;;
  esac
  shift
done
case "$ARCH" in amd64|arm64) ;; *) echo "build-image.sh: --arch must be amd64 or arm64, not '$ARCH'" >&2; exit 2 ;; esac

# shellcheck source=lib/report.sh
source "$HARNESS_DIR/lib/report.sh"
# shellcheck source=lib/engine.sh
source "$HARNESS_DIR/lib/engine.sh"
# shellcheck source=lib/base-image.sh
source "$HARNESS_DIR/lib/base-image.sh"
# shellcheck source=lib/build-context.sh
source "$HARNESS_DIR/lib/build-context.sh"
# shellcheck source=lib/emulation.sh
source "$HARNESS_DIR/lib/emulation.sh"

select_node_base "$SUITE" "$ARCH" "$NODE_VERSION" "$NPM_VERSION" || exit 2
HOST_ARCH=$(dpkg --print-architecture)
if [ -z "$TAG" ]; then
  TAG=localhost/opencode-server:test; [ "$BASE_ARCH" = "$HOST_ARCH" ] || TAG="$TAG-$BASE_ARCH"
fi
# Only for another architecture than the host's: the default build runs `podman build` as it always did.
PLATFORM_OPTION=(); [ "$BASE_ARCH" = "$HOST_ARCH" ] || PLATFORM_OPTION=(--platform "$BASE_PLATFORM")

mkdir -p "$WORK_DIR/logs"
CONTEXT_DIR=""
trap '[ -z "$CONTEXT_DIR" ] || rm -rf "$CONTEXT_DIR"; undo_emulation' EXIT

install_debian_packages ca-certificates git >&2
prepare_engine >&2
enable_emulation "$BASE_ARCH" >&2
ensure_node_base >/dev/null
[ -d "$EXTRA_CA_DIR" ] || EXTRA_CA_DIR=""
BASE_TAG=$(ensure_ca_base "$EXTRA_CA_DIR")
# By digest, as prove-image.sh builds it: BASE_IMAGE lands in a label, so the same reference keeps one layer cache for both.
BASE_DIGEST=$(engine image inspect --format '{{.Digest}}' "$BASE_TAG" 2>/dev/null || true)
if [[ "$BASE_DIGEST" == sha256:* ]]; then BASE_REF="${BASE_TAG%:*}@$BASE_DIGEST"; else BASE_REF=$BASE_TAG; fi

CONTEXT_DIR=$(mktemp -d "$WORK_DIR/context.XXXXXX")
make_build_context "$CONTEXT_DIR"
[ -z "$CONFIG_FILE" ] || cp "$CONFIG_FILE" "$CONTEXT_DIR/config.json"
case "$CONTAINERFILE_IN_REPO" in /*) CONTAINERFILE=$CONTAINERFILE_IN_REPO ;; *) CONTAINERFILE="$CONTEXT_DIR/$CONTAINERFILE_IN_REPO" ;; esac
[ -f "$CONTAINERFILE" ] || { echo "build-image.sh: no $CONTAINERFILE_IN_REPO in the build context" >&2; exit 1; }
if [ -z "$BUILD_LOG" ]; then
  BUILD_LOG="$WORK_DIR/logs/build-image.log"; [ "$BASE_ARCH" = "$HOST_ARCH" ] || BUILD_LOG="$WORK_DIR/logs/build-image-$BASE_ARCH.log"
fi
mkdir -p "$(dirname "$BUILD_LOG")"
log "building $TAG ($BASE_PLATFORM) from $CONTAINERFILE_IN_REPO with BASE_IMAGE=$BASE_REF (log: $BUILD_LOG)"
if ! timeout 3600 podman build --pull=never --format docker --network host "${PLATFORM_OPTION[@]}" "${CACHE_OPTION[@]}" "${VERSION_OPTION[@]}" --build-arg "BASE_IMAGE=$BASE_REF" \
    -f "$CONTAINERFILE" -t "$TAG" "$CONTEXT_DIR" >"$BUILD_LOG" 2>&1; then
  tail -n 40 "$BUILD_LOG" >&2
  echo "build failed (log: $BUILD_LOG)" >&2
  exit 1
fi
echo "$TAG"
