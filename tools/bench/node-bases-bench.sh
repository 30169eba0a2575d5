#!/usr/bin/env bash
# Figures for docs/benchmarks/image.md, "Node bases": for each base, the seconds to make it (pulled, or the harness's
# stand-in: debootstrap + Node + npm + import, then the CA base) and to build the Containerfile on it, and both sizes.
#
#   bash tools/bench/node-bases-bench.sh [--cold] [SUITE:NODE_VERSION ...]
#
# SUITE:NODE_VERSION   the bases (default bookworm:20.20.2 bookworm:22.23.2 bookworm:24.19.0); trixie:24.19.0 is
#                      node:24-trixie-slim
# --cold               first takes the names of each base's stand-in, its CA base and the image built on it off the
#                      harness's store (untag; nothing is deleted): the new stand-in is a new base, so the build reuses
#                      no layer (nor will the next harness run on that base). The debootstrap package download (once
#                      per Debian release and machine) stays cached.
#
# Working folder: HARNESS_WORK_DIR (default ~/.cache/opencode-server-harness). Prints one line per base, then the load.
set -euo pipefail

REPO_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
HARNESS_DIR="$REPO_ROOT/tools/harness"
WORK_DIR=${HARNESS_WORK_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/opencode-server-harness}
ENGINE=podman
COLD=0
BASES=()
for argument in "$@"; do
  case "$argument" in
    --cold) COLD=1 ;;
    -h|--help) awk 'NR > 1 && !/^#/ {exit} NR > 1 {sub(/^# ?/, ""); print}' "${BASH_SOURCE[0]}"; exit 0 ;;
    *:*) BASES+=("$argument") ;;
    *) echo "node-bases-bench.sh: not SUITE:NODE_VERSION: $argument" >&2; exit 2 ;;
  esac
done
[ "${#BASES[@]}" -gt 0 ] || BASES=(bookworm:20.20.2 bookworm:22.23.2 bookworm:24.19.0)

# shellcheck source=../harness/lib/report.sh
source "$HARNESS_DIR/lib/report.sh"
# shellcheck source=../harness/lib/engine.sh
source "$HARNESS_DIR/lib/engine.sh"
# shellcheck source=../harness/lib/base-image.sh
source "$HARNESS_DIR/lib/base-image.sh"
prepare_engine >&2

seconds_since() { awk -v start="$1" -v now="$(date +%s.%N)" 'BEGIN {printf "%.0f", now - start}'; }
megabytes() { engine image inspect --format '{{.Size}}' "$1" | awk '{printf "%.0f", $1 / 1e6}'; }

echo "load before: $(cut -d' ' -f1-3 /proc/loadavg)"
printf '%-22s %-8s %-8s %-8s %-7s %-7s %-8s %-8s\n' base debian node npm base_s build_s base_MB image_MB
for base in "${BASES[@]}"; do
  suite=${base%%:*} node_version=${base#*:}
  select_node_base "$suite" amd64 "$node_version"
  image_tag="localhost/opencode-server:bench-node${node_version%%.*}-$suite"
  if [ "$COLD" = 1 ]; then
    for reference in "$image_tag" "$CA_BASE_REF" "$NODE_BASE_REF"; do
      if image_exists "$reference"; then engine untag "$reference" "$reference"; fi
    done
  fi
  start=$(date +%s.%N)
  bash "$HARNESS_DIR/make-base.sh" --suite "$suite" --node-version "$node_version" >/dev/null
  base_seconds=$(seconds_since "$start")
  start=$(date +%s.%N)
  bash "$HARNESS_DIR/build-image.sh" --suite "$suite" --node-version "$node_version" --tag "$image_tag" >/dev/null
  build_seconds=$(seconds_since "$start")
  debian=$(engine run --rm --network none --entrypoint cat "$image_tag" /etc/debian_version)
  printf '%-22s %-8s %-8s %-8s %-7s %-7s %-8s %-8s\n' "${NODE_BASE_REF#docker.io/library/}" "$debian" \
    "$node_version" "$STANDIN_NPM_VERSION" "$base_seconds" "$build_seconds" "$(megabytes "$NODE_BASE_REF")" \
    "$(megabytes "$image_tag")"
done
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)"
