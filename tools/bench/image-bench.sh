#!/usr/bin/env bash
# Benchmarks our image against the change proposal's literal recipe (tools/bench/literal-recipe/Containerfile),
# measured in one run on this machine, and prints a table:
#   cold build (--no-cache), rebuild after a one-line change in plugin/, image size, seconds from `run` to the first
#   200 on /config, seconds from `run` to a passing health check, seconds for `stop -t 10` (and its exit code).
#
#   bash tools/bench/image-bench.sh [--engine podman] [--extra-ca-dir DIR] [--keep]     (RUN_REPEATS=3 by default)
#
# Figures, not assertions. The plugin change is made in a temporary copy of the build context, never in the repo.
# Uses the harness's working folder (~/.cache/opencode-server-harness) and base image (node:20-slim, or its local stand-in).
set -uo pipefail

BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO_ROOT=$(cd "$BENCH_DIR/../.." && pwd)
HARNESS_DIR="$REPO_ROOT/tools/harness"
# Machine-wide, so every clone (and CI, which clones anew) reuses the stand-in base (and the debootstrap download).
WORK_DIR=${HARNESS_WORK_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/opencode-server-harness}
ENGINE=podman
KEEP=0
EXTRA_CA_DIR=/usr/local/share/ca-certificates
RUN_REPEATS=${RUN_REPEATS:-3}   # run/first-200/health/stop figures are the median of this many runs
while [ $# -gt 0 ]; do
  case "$1" in
    --engine) ENGINE=${2:?}; shift ;;
    --extra-ca-dir) EXTRA_CA_DIR=${2?}; shift ;;
    --keep) KEEP=1 ;;
    -h|--help) sed -n '2,10p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "unknown option: $1" >&2; exit 2 ;;
  esac
  shift
done
[ "$ENGINE" = podman ] || { echo "the benchmark measures health checks with 'podman healthcheck run': podman only" >&2; exit 2; }

source "$HARNESS_DIR/lib/report.sh"
source "$HARNESS_DIR/lib/engine.sh"
source "$HARNESS_DIR/lib/base-image.sh"
source "$HARNESS_DIR/lib/build-context.sh"
source "$HARNESS_DIR/lib/container.sh"

RUN_ID="bench-$$-$(date +%s)"
LOG_DIR="$WORK_DIR/logs"; mkdir -p "$LOG_DIR"
SCRATCH=$(mktemp -d "$WORK_DIR/$RUN_ID.XXXXXX")

cleanup() {
  local status=$?
  if [ "$KEEP" -eq 0 ]; then
    # The images this run tagged, with the untagged build steps only they use (the --no-cache builds' layers); never
    # "every image that appeared meanwhile", which would include other concurrent runs' images.
    remove_started
    rm -rf "$SCRATCH"
  fi
  exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

now() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$2" 'BEGIN{printf "%.1f", b-a}'; }

install_debian_packages curl jq git ca-certificates || exit 1
prepare_engine || exit 1
BASE_KIND=$(ensure_node_base) || exit 1
[ -d "$EXTRA_CA_DIR" ] || EXTRA_CA_DIR=""
BASE_REF=$(ensure_ca_base "$EXTRA_CA_DIR") || exit 1

# The one-line change: a comment appended to the plugin's entry file (any file in plugin/ that the image copies).
change_plugin_one_line() {
  local context=$1 file
  file=$(cd "$context" && find plugin -maxdepth 1 -type f \( -name '*.ts' -o -name '*.js' \) | sort | head -1)
  [ -n "$file" ] || file=plugin/package.json
  case "$file" in
    *.json) sed -i "s/\"private\": true/\"private\": true /" "$context/$file" ;;
    *) printf '// benchmark edit %s\n' "$RUN_ID" >>"$context/$file" ;;
  esac
}

# build NAME CONTAINERFILE CONTEXT TAG [extra build flags] -- echoes seconds; the log goes to LOG_DIR.
timed_build() {
  local name=$1 containerfile=$2 context=$3 tag=$4; shift 4
  local start end
  start=$(now)
  timeout 3600 "$ENGINE" build --format docker --pull=never --network host --build-arg "BASE_IMAGE=$BASE_REF" "$@" \
    -f "$containerfile" -t "$tag" "$context" >"$LOG_DIR/$RUN_ID-$name.log" 2>&1 \
    || { echo "build $name failed; see $LOG_DIR/$RUN_ID-$name.log" >&2; tail -20 "$LOG_DIR/$RUN_ID-$name.log" >&2; return 1; }
  end=$(now)
  elapsed "$start" "$end"
}

# Polls PROBE (a command) until it succeeds or 180 s pass; writes the seconds since START, measured when the probe
# returned success, to FILE (a dash when it never did).
poll_until() {
  local start=$1 file=$2; shift 2
  echo - >"$file"
  while awk -v e="$(elapsed "$start" "$(now)")" 'BEGIN{exit !(e < 180)}'; do
    if "$@" >/dev/null 2>&1; then elapsed "$start" "$(now)" >"$file"; return 0; fi
    sleep 0.2
  done
}
config_is_200() { [ "$(http_status "$1")" = 200 ]; }

# run_figures TAG -- echoes "first_200 healthy stop exit_code". The two probes run side by side so neither delays
# the other (a request sent while OpenCode starts can hang for seconds).
run_figures() {
  local tag=$1 port start id t code
  port=$(free_loopback_port)
  start=$(now)
  # The name carries RUN_ID so that cleanup finds it (this runs in $(...)).
  # Published on this machine's loopback only, so ours takes its opt-out of the password it otherwise requires (it
  # exits 78 without one); the literal recipe has no such check and ignores the variable.
  id=$(engine run -d --name "$RUN_ID-$(date +%s%N)" -p "127.0.0.1:$port:4096" -e OPENCODE_SERVER_ALLOW_NO_PASSWORD=1 \
    "$tag" 2>/dev/null) || { echo "- - - -"; return; }
  poll_until "$start" "$SCRATCH/first200" config_is_200 "http://127.0.0.1:$port/config" &
  local poll_200=$!
  # Each probe bounded: podman 4.3 does not enforce HEALTHCHECK --timeout in `healthcheck run`.
  poll_until "$start" "$SCRATCH/healthy" timeout 20 "$ENGINE" healthcheck run "$id" &
  local poll_health=$!
  wait "$poll_200" "$poll_health"
  t=$(now)
  engine stop -t 10 "$id" >/dev/null 2>&1
  local stop; stop=$(elapsed "$t" "$(now)")
  code=$(engine inspect --format '{{.State.ExitCode}}' "$id")
  engine rm -f -v "$id" >/dev/null 2>&1
  echo "$(cat "$SCRATCH/first200") $(cat "$SCRATCH/healthy") $stop $code"
}

# median_of FIELD LINE... -- "median (min-max)" of one whitespace-separated field; a dash counts as missing.
median_of() {
  local field=$1; shift
  printf '%s\n' "$@" | awk -v f="$field" '$f != "-" {print $f}' | sort -g \
    | awk '{v[NR]=$1} END { if (NR == 0) { print "-"; exit }
             m = (NR % 2) ? v[(NR+1)/2] : (v[NR/2] + v[NR/2+1]) / 2
             if (NR == 1) printf "%.1f\n", m; else printf "%.1f (%.1f-%.1f)\n", m, v[1], v[NR] }'
}

size_mb() { engine image inspect --format '{{.Size}}' "$1" | awk '{printf "%.0f", $1/1000/1000}'; }

declare -A RESULT
measure() {
  local name=$1 containerfile=$2
  local context="$SCRATCH/$name-context" tag="localhost/opencode-bench-$name:$RUN_ID"
  make_build_context "$context"
  log "$name: cold build (--no-cache)"
  CREATED_IMAGES+=("$tag" "$tag-plugin-edit")
  RESULT[$name.cold]=$(timed_build "$name-cold" "$containerfile" "$context" "$tag" --no-cache) || return 1
  RESULT[$name.size]=$(size_mb "$tag")
  log "$name: run, first 200, health check, stop ($RUN_REPEATS times)"
  local repeat figures=()
  for repeat in $(seq 1 "$RUN_REPEATS"); do figures+=("$(run_figures "$tag")"); done
  RESULT[$name.first200]=$(median_of 1 "${figures[@]}")
  RESULT[$name.healthy]=$(median_of 2 "${figures[@]}")
  RESULT[$name.stop]=$(median_of 3 "${figures[@]}")
  RESULT[$name.exit]=$(printf '%s\n' "${figures[@]}" | awk '{print $4}' | sort -u | paste -sd/)
  # The store can hold an older cached chain beside the --no-cache one, and Buildah may take either: an untimed build
  # of the unchanged context first leaves one complete chain, so the rebuild measures what a user's edit costs.
  timed_build "$name-warm" "$containerfile" "$context" "$tag" >/dev/null || return 1
  change_plugin_one_line "$context"
  log "$name: rebuild after a one-line change in plugin/"
  RESULT[$name.rebuild]=$(timed_build "$name-rebuild" "$containerfile" "$context" "$tag-plugin-edit") || return 1
}

T0=$(now)
measure ours "$REPO_ROOT/containers/opencode-server/Containerfile" || exit 1
measure literal "$BENCH_DIR/literal-recipe/Containerfile" || exit 1

ratio() { awk -v a="$1" -v b="$2" 'BEGIN{ if (b+0 == 0) print "-"; else printf "%.2f", a/b }'; }
{
  printf '\n%s, %s cores, %s, %s, base %s (%s), %s\n' "$(date -u +%Y-%m-%d)" "$(nproc)" \
    "$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//')" \
    "$(awk '/MemTotal/{printf "%.0f GiB RAM", $2/1024/1024}' /proc/meminfo)" "$NODE_BASE_REF" "$BASE_KIND" \
    "$("$ENGINE" --version | head -1)"
  printf '| figure | ours | literal recipe | ours / literal |\n|---|---|---|---|\n'
  printf '| cold build, s (--no-cache) | %s | %s | %s |\n' "${RESULT[ours.cold]}" "${RESULT[literal.cold]}" "$(ratio "${RESULT[ours.cold]}" "${RESULT[literal.cold]}")"
  printf '| rebuild after a one-line plugin/ change, s | %s | %s | %s |\n' "${RESULT[ours.rebuild]}" "${RESULT[literal.rebuild]}" "$(ratio "${RESULT[ours.rebuild]}" "${RESULT[literal.rebuild]}")"
  printf '| rebuild / cold build | %s | %s | |\n' "$(ratio "${RESULT[ours.rebuild]}" "${RESULT[ours.cold]}")" "$(ratio "${RESULT[literal.rebuild]}" "${RESULT[literal.cold]}")"
  printf '| image size, MB | %s | %s | %s |\n' "${RESULT[ours.size]}" "${RESULT[literal.size]}" "$(ratio "${RESULT[ours.size]}" "${RESULT[literal.size]}")"
  printf '| run -> first 200 on /config, s | %s | %s | |\n' "${RESULT[ours.first200]}" "${RESULT[literal.first200]}"
  printf '| run -> passing health check (podman healthcheck run polled), s | %s | %s | |\n' "${RESULT[ours.healthy]}" "${RESULT[literal.healthy]}"
  printf '| stop -t 10, s (exit code) | %s (%s) | %s (%s) | |\n' "${RESULT[ours.stop]}" "${RESULT[ours.exit]}" "${RESULT[literal.stop]}" "${RESULT[literal.exit]}"
  printf '\nrun, health check and stop figures: median (min-max) of %s runs of the image\n' "$RUN_REPEATS"
  printf 'targets (not assertions): size ratio <= 0.60; first 200 <= 5 s; plugin-only rebuild <= 0.10 x cold build\n'
  printf 'benchmark wall time %ss\n' "$(elapsed "$T0" "$(now)")"
}
