#!/usr/bin/env bash
# Proves the OpenCode server image for real: builds containers/opencode-server/Containerfile with Podman (or Docker),
# runs it and checks the behaviour issue 3 names (a-g). One command on a fresh Debian 12 machine:
#
#   bash tools/harness/prove-image.sh [--keep] [--engine podman|docker] [--extra-ca-dir DIR] [--containerfile FILE]
#
# --keep            leave the containers (stopped), the image and the build context it made, and name them
#                   (default: remove them; the layer cache and the bases stay either way)
# --engine          podman (default) or docker (a private dockerd under the working folder)
# --extra-ca-dir    CA certificates (*.crt) the build must trust, e.g. a TLS-intercepting proxy's; default
#                   /usr/local/share/ca-certificates when it has any. They go into a local derived base image
#                   (tools/make-ca-base.sh, localhost/node:20-slim-with-ca, kept) passed as BASE_IMAGE, never into
#                   the Containerfile.
# --containerfile   another Containerfile to prove (path inside the repository), default the committed one
#
# Everything it keeps between runs (Podman storage with the build's layer cache, the node:20-slim stand-in, the CA base,
# the debootstrap tarball, the last $KEPT_LOGS runs' logs) lives in ~/.cache/opencode-server-harness, shared by every
# clone on the machine (override with HARNESS_WORK_DIR). The last line is "N passed, M failed".
set -uo pipefail

HARNESS_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO_ROOT=$(cd "$HARNESS_DIR/../.." && pwd)
# Machine-wide, so every clone (and CI, which clones anew) reuses the stand-in base (and the debootstrap download).
WORK_DIR=${HARNESS_WORK_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/opencode-server-harness}
ENGINE=podman
KEEP=0
EXTRA_CA_DIR=/usr/local/share/ca-certificates
CONTAINERFILE_IN_REPO=containers/opencode-server/Containerfile

# The header comment above, up to the first line that is not a comment.
usage() { awk 'NR > 1 && !/^#/ {exit} NR > 1 {sub(/^# ?/, ""); print}' "${BASH_SOURCE[0]}"; }
usage_error() { echo "prove-image.sh: $1" >&2; echo >&2; usage >&2; exit 2; }
# option_value NAME VALUE: VALUE, or a usage error when it is missing or empty.
option_value() { [ -n "${2:-}" ] || usage_error "$1 needs a value"; printf '%s' "$2"; }
while [ $# -gt 0 ]; do
  case "$1" in
    --keep) KEEP=1 ;;
    --engine) ENGINE=$(option_value "$1" "${2:-}") || exit 2; shift ;;
    --engine=*) ENGINE=$(option_value --engine "${1#*=}") || exit 2 ;;
    # An empty value is allowed here: it means "no extra CAs".
    --extra-ca-dir) [ $# -ge 2 ] || usage_error "--extra-ca-dir needs a directory (or \"\" for none)"; EXTRA_CA_DIR=$2; shift ;;
    --extra-ca-dir=*) EXTRA_CA_DIR=${1#*=} ;;
    --containerfile) CONTAINERFILE_IN_REPO=$(option_value "$1" "${2:-}") || exit 2; shift ;;
    --containerfile=*) CONTAINERFILE_IN_REPO=$(option_value --containerfile "${1#*=}") || exit 2 ;;
    -h|--help) usage; exit 0 ;;
    *) usage_error "unknown option: $1" ;;
  esac
  shift
done
case "$ENGINE" in podman|docker) ;; *) usage_error "--engine must be podman or docker, not '$ENGINE'" ;; esac

# shellcheck source=lib/report.sh
source "$HARNESS_DIR/lib/report.sh"
# shellcheck source=lib/image-usage.sh
source "$HARNESS_DIR/lib/image-usage.sh"
# shellcheck source=lib/engine.sh
source "$HARNESS_DIR/lib/engine.sh"
# shellcheck source=lib/base-image.sh
source "$HARNESS_DIR/lib/base-image.sh"
# shellcheck source=lib/build-context.sh
source "$HARNESS_DIR/lib/build-context.sh"
# shellcheck source=lib/container.sh
source "$HARNESS_DIR/lib/container.sh"
# shellcheck source=lib/checks.sh
source "$HARNESS_DIR/lib/checks.sh"

RUN_ID="prove-$$-$(date +%s)"
IMAGE_UNDER_TEST="localhost/opencode-server-harness:$RUN_ID"
LOG_DIR="$WORK_DIR/logs"
BUILD_LOG="$LOG_DIR/$RUN_ID-build.log"
CONTEXT_DIR=""
KEPT_LOGS=20
mkdir -p "$LOG_DIR"
# The logs of the last $KEPT_LOGS runs (oldest removed first); a run writes one log of each kind.
for kind in build refused-config; do
  ls -1t "$LOG_DIR"/prove-*-"$kind".log 2>/dev/null | tail -n +"$KEPT_LOGS" | xargs -r rm -f
done

# This run's containers, by the RUN_ID in their names (start_container runs in $(...) and cannot record them).
run_containers() { engine ps -a --filter "name=$RUN_ID" --format '{{.Names}}' 2>/dev/null | sort | tr '\n' ' '; }

cleanup() {
  local status=$?
  if [ "$KEEP" -eq 1 ]; then
    log "--keep: leaving containers (stopped): $(run_containers)"
    log "--keep: leaving image $IMAGE_UNDER_TEST and build context $CONTEXT_DIR; remove them with:"
    log "  $ENGINE rm $(run_containers); $ENGINE rmi --no-prune $IMAGE_UNDER_TEST; rm -rf $CONTEXT_DIR"
  else
    remove_started
    # Only what this run tagged: its cached build steps stay for the next run (and other runs' images are not ours).
    engine rmi --no-prune "$IMAGE_UNDER_TEST" >/dev/null 2>&1 || true
    # Untagged build steps made more than a week ago go: the store does not grow without end (and a week-old cache
    # is rebuilt, with Debian's updates).
    engine image prune -f --filter until=168h >/dev/null 2>&1 || true
    [ -z "$CONTEXT_DIR" ] || rm -rf "$CONTEXT_DIR"
  fi
  stop_private_dockerd
  exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# With --keep a finished container is only stopped, so it can be inspected afterwards.
discard_container() {
  if [ "$KEEP" -eq 1 ]; then engine stop -t 10 "$1" >/dev/null 2>&1; else engine rm -f "$1" >/dev/null 2>&1; fi
  return 0
}
seconds_since() { awk -v a="$1" -v b="$(date +%s.%N)" 'BEGIN{printf "%.0f", b-a}'; }
T_START=$(date +%s.%N)

# ---- host tools and engine ----
install_debian_packages curl jq git ca-certificates || exit 1
# The spec's own tooling (input validation, the shared acceptance script) runs on the repository's npm lockfile.
# Skipped when node_modules was installed from this package-lock.json (tools/setup.sh uses the same check).
bash "$REPO_ROOT/tools/npm-ci-if-needed.sh" . >&2 || { echo "FAIL npm-ci"; exit 1; }
prepare_engine || { fail_step engine-setup; print_summary; exit 1; }
log "engine: $ENGINE ($("$ENGINE" --version | head -1))"

# ---- base image ----
T_PHASE=$(date +%s.%N)
BASE_KIND=$(ensure_node_base) || { fail_step base-image; print_summary; exit 1; }
log "base: $NODE_BASE_REF ($BASE_KIND) ready in $(seconds_since "$T_PHASE")s"

[ -d "$EXTRA_CA_DIR" ] || EXTRA_CA_DIR=""
BASE_TAG=$(ensure_ca_base "$EXTRA_CA_DIR") || { fail_step base-with-extra-ca; print_summary; exit 1; }
[ -z "$EXTRA_CA_DIR" ] || log "extra CAs from $EXTRA_CA_DIR in the local base $BASE_TAG (tools/make-ca-base.sh)"
# The base that README's by-hand build uses behind a TLS-intercepting proxy: npm in it reaches the registry (the plain
# base, where npm does not trust the proxy, is shown for contrast when it fails).
check_ca_base_trusts_the_proxy() {
  local probe=(npm view --no-update-notifier "opencode-ai@$(opencode_version)" version)
  engine run --rm --network host --entrypoint "" "$BASE_TAG" "${probe[@]}" >&2 || {
    echo "npm in $BASE_TAG cannot reach the registry" >&2; return 1; }
  if ! engine run --rm --network host --entrypoint "" "$NODE_BASE_REF" "${probe[@]}" >/dev/null 2>&1; then
    echo "(for contrast: npm in the plain $NODE_BASE_REF fails here, so the CAs are what makes it work)" >&2
  fi
}
opencode_version() { sed -n 's/^ARG OPENCODE_VERSION=//p' "$REPO_ROOT/containers/opencode-server/Containerfile"; }
if [ -n "$EXTRA_CA_DIR" ]; then run_check ca-base-npm-reaches-the-registry check_ca_base_trusts_the_proxy; fi

# A digest-pinned BASE_IMAGE must work: build from <base>@sha256:<digest> (Podman records digests of local images;
# Docker only has them for pulled or pushed images).
BASE_DIGEST=$(engine image inspect --format '{{.Digest}}' "$BASE_TAG" 2>/dev/null || true)
if [ "$ENGINE" = podman ] && [[ "$BASE_DIGEST" == sha256:* ]]; then
  BASE_REF="${BASE_TAG%:*}@$BASE_DIGEST"
else
  BASE_REF=$BASE_TAG
fi

# ---- build ----
CONTEXT_DIR=$(mktemp -d "$WORK_DIR/context.XXXXXX")
make_build_context "$CONTEXT_DIR"
case "$CONTAINERFILE_IN_REPO" in /*) CONTAINERFILE=$CONTAINERFILE_IN_REPO ;; *) CONTAINERFILE="$CONTEXT_DIR/$CONTAINERFILE_IN_REPO" ;; esac
build_log_tail() { tail -n "$LOG_TAIL_LINES" "$BUILD_LOG"; }
LOG_TAIL_SOURCE=build_log_tail

build_image() {
  [ -f "$CONTAINERFILE" ] || { echo "no $CONTAINERFILE_IN_REPO in the build context" >&2; echo "(no build ran)" >"$BUILD_LOG"; return 1; }
  local engine_flags=(--pull=never --format docker)
  [ "$ENGINE" = docker ] && engine_flags=()
  log "building $IMAGE_UNDER_TEST from $CONTAINERFILE_IN_REPO with BASE_IMAGE=$BASE_REF (log: $BUILD_LOG)"
  timeout 3600 "$ENGINE" build "${engine_flags[@]}" --network host --build-arg "BASE_IMAGE=$BASE_REF" \
    -f "$CONTAINERFILE" -t "$IMAGE_UNDER_TEST" "$CONTEXT_DIR" >"$BUILD_LOG" 2>&1
}
# The same input validation as `dagger call build`: a missing or malformed input is named before any layer is built.
check_build_context() { (cd "$REPO_ROOT" && npx --no-install tsx tools/check-build-context.ts --context "$CONTEXT_DIR"); }
LOG_TAIL_SOURCE="" run_check build-context-valid check_build_context
if [ "$FAILED" -gt 0 ]; then print_summary; exit 1; fi
T_PHASE=$(date +%s.%N)
run_check build build_image
BUILD_SECONDS=$(seconds_since "$T_PHASE")
log "build took ${BUILD_SECONDS}s"
if [ "$FAILED" -gt 0 ]; then print_summary; exit 1; fi

check_base_digest_pinned() { grep -qE "FROM [^ ]+@sha256:[0-9a-f]{64}" "$BUILD_LOG" || { echo "the build did not start FROM a digest reference" >&2; return 1; }; }
if [ "$BASE_REF" != "$BASE_TAG" ]; then run_check base-digest-pin check_base_digest_pinned
else skip_check base-digest-pin "$ENGINE has no digest for a local image"; fi
run_check recipe-has-no-local-trust check_recipe_has_no_local_trust

# A config.json that OpenCode would refuse stops the build itself (the image's config step runs the real opencode),
# naming config.json. The same context with one field changed, so every earlier step comes from the layer cache.
check_build_fails_on_refused_config() {
  local context="$CONTEXT_DIR.refused-config" log="$LOG_DIR/$RUN_ID-refused-config.log" status
  rm -rf "$context"; cp -a "$CONTEXT_DIR" "$context"
  jq '.share = "sometimes"' "$CONTEXT_DIR/config.json" >"$context/config.json"
  local engine_flags=(--pull=never --format docker); [ "$ENGINE" = docker ] && engine_flags=()
  timeout 1800 "$ENGINE" build "${engine_flags[@]}" --network host --build-arg "BASE_IMAGE=$BASE_REF" \
    -f "${CONTAINERFILE/#$CONTEXT_DIR/$context}" -t "$IMAGE_UNDER_TEST-refused-config" "$context" >"$log" 2>&1
  status=$?
  rm -rf "$context"
  engine rmi --no-prune "$IMAGE_UNDER_TEST-refused-config" >/dev/null 2>&1
  [ "$status" -ne 0 ] || { echo "the build passed with share = \"sometimes\" in config.json" >&2; return 1; }
  grep -q 'config.json (/root/.config/opencode/opencode.json): OpenCode refuses it' "$log" \
    || { echo "the build failed without naming config.json; see $log" >&2; tail -5 "$log" >&2; return 1; }
  grep -q '"sometimes"' "$log" || { echo "the build failed without naming the fault; see $log" >&2; return 1; }
}
run_check build-fails-on-a-config-opencode-refuses check_build_fails_on_refused_config

# ---- the image running with defaults ----
T_PHASE=$(date +%s.%N)
LOG_TAIL_SOURCE=container_log_tail
if [ "$ENGINE" = podman ]; then
  PORT=$(free_loopback_port); PUBLISH=(-p "127.0.0.1:$PORT:4096")
else
  # The private dockerd has no bridge; the image's port is fixed at 4096.
  PORT=4096; PUBLISH=(--network host)
fi
URL="http://127.0.0.1:$PORT"
run_check b.no-password-refuses-to-start check_no_password_refuses_to_start
# The runs below without a password take the image's opt-out: their port is published on this machine's loopback only.
OPEN=(-e OPENCODE_SERVER_ALLOW_NO_PASSWORD=1)
CURRENT_CONTAINER=$(start_container "$RUN_ID-default" "${OPEN[@]}" "${PUBLISH[@]}") || CURRENT_CONTAINER=""
run_check b.config-200-from-outside check_config_200 "$URL"
run_check a.healthcheck-30s-10s-40s-on-config check_healthcheck_config "$CURRENT_CONTAINER"
run_check a.healthcheck-run-passes check_healthcheck_passes "$CURRENT_CONTAINER"
run_check c.entrypoint check_entrypoint
run_check c.pid1-is-tini check_pid1_is_tini "$CURRENT_CONTAINER"
run_check c.opencode-serve-0.0.0.0-4096 check_opencode_serves "$CURRENT_CONTAINER"
run_check c.ddtrace-bootstrap-on-pythonpath check_ddtrace_bootstrap_in_environ "$CURRENT_CONTAINER"
run_check d.venv-imports check_venv_imports "$CURRENT_CONTAINER"
run_check d.tools-present check_tools_present "$CURRENT_CONTAINER"
run_check d.copied-paths check_copied_paths "$CURRENT_CONTAINER"
run_check d.env-defaults check_env_defaults
run_check d.acceptance-criteria-of-the-dagger-check check_shared_acceptance_criteria "$CURRENT_CONTAINER"
run_check e.plugin-listed check_plugin_listed "$CURRENT_CONTAINER" "$URL"
run_check e.plugin-started-memory-process check_plugin_started_memory_process "$CURRENT_CONTAINER"
run_check e.no-plugin-load-failure check_no_plugin_failure "$CURRENT_CONTAINER"
STOP_SECONDS=""
run_check f.sigterm-stop-under-5s-not-killed check_sigterm_stop "$CURRENT_CONTAINER"

# ---- with a password: every route needs Basic auth ----
# Passed by name (-e NAME) from this process's environment: the value is never on a command line.
OPENCODE_SERVER_PASSWORD=$(head -c 24 /dev/urandom | base64 | tr -d '/+=')
export OPENCODE_SERVER_PASSWORD
[ "$ENGINE" = podman ] && { PORT=$(free_loopback_port); PUBLISH=(-p "127.0.0.1:$PORT:4096"); URL="http://127.0.0.1:$PORT"; }
[ "$ENGINE" = docker ] && discard_container "$CURRENT_CONTAINER"   # frees host port 4096
CURRENT_CONTAINER=$(start_container "$RUN_ID-password" "${PUBLISH[@]}" -e OPENCODE_SERVER_PASSWORD) || CURRENT_CONTAINER=""
wait_for_status 401 120 "$URL/config" >/dev/null 2>&1 || true
run_check b.password-401-without-credentials check_auth_rejects_anonymous "$URL"
run_check b.password-401-wrong-password check_auth_rejects_wrong_password "$URL"
run_check b.password-200-with-credentials check_auth_accepts_password "$URL"
run_check b.password-healthcheck-passes check_healthcheck_passes "$CURRENT_CONTAINER"
run_check g.runtime-secret-not-in-image check_secret_not_in_image
discard_container "$CURRENT_CONTAINER"
unset OPENCODE_SERVER_PASSWORD

# ---- no network at all: the plugin must not need the registry at start ----
CURRENT_CONTAINER=$(start_container "$RUN_ID-offline" "${OPEN[@]}" --network none) || CURRENT_CONTAINER=""
run_check e.offline-config-200 wait_for_status_inside "$CURRENT_CONTAINER" 200 120 /config
run_check e.offline-plugin-listed check_plugin_listed "$CURRENT_CONTAINER" inside
run_check e.offline-plugin-started-memory-process check_plugin_started_memory_process "$CURRENT_CONTAINER"
run_check e.offline-no-plugin-load-failure check_no_plugin_failure "$CURRENT_CONTAINER"
discard_container "$CURRENT_CONTAINER"
CURRENT_CONTAINER=""
LOG_TAIL_SOURCE=""
run_check g.no-credential-files check_no_credential_files

log "base $BASE_KIND; build ${BUILD_SECONDS}s; run checks $(seconds_since "$T_PHASE")s; total $(seconds_since "$T_START")s"
# A proved image stays, under one name, for the user to run (cleanup removes only this run's own tag).
if [ "$FAILED" -eq 0 ] && [ "$ENGINE" = podman ] && engine tag "$IMAGE_UNDER_TEST" "$KEPT_IMAGE"; then
  print_image_usage "$WORK_DIR"
fi
print_summary
[ "$FAILED" -eq 0 ]
