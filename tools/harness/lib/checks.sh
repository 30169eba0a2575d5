# The named checks (a-g of issue 3). Each returns non-zero with its evidence on stderr.
# Sourced; expects ENGINE, engine(), IMAGE_UNDER_TEST, CONTEXT_DIR, CONTAINERFILE and the container.sh helpers.

readonly EXPECTED_ENTRYPOINT='["tini","-g","--","/app/scripts/check-secrets","/app/scripts/check-state-dirs","ddtrace-run","opencode","serve","--hostname","0.0.0.0","--port","4096"]'
readonly EXPECTED_OPENCODE_VERSION="1.18.33"
readonly PLUGIN_DIR_URL="file:///root/.opencode/plugin/"

image_json() { engine image inspect --format "{{json $1}}" "$IMAGE_UNDER_TEST"; }

# In-container: prints "PID<TAB>argv joined by spaces" for every process (the image has no ps).
readonly LIST_PROCESSES='for p in /proc/[0-9]*; do [ -r "$p/cmdline" ] || continue; printf "%s\t" "${p#/proc/}"; tr "\0" " " <"$p/cmdline"; echo; done'

# The pid of `opencode serve ...`: argv[0] ends in opencode and argv[1] is serve (not ddtrace-run, not our own shell).
opencode_serve_pid() {
  engine exec "$1" sh -c "$LIST_PROCESSES" | awk -F'\t' '{ split($2, argv, " "); if (argv[1] ~ /(^|\/)opencode$/ && argv[2] == "serve") { print $1; exit } }'
}

# ---- a. health check ----
check_healthcheck_config() {
  local hc; hc=$(image_json .Config.Healthcheck)
  echo "image healthcheck: $hc" >&2
  jq -e '.Interval == 30000000000 and .Timeout == 10000000000 and .StartPeriod == 40000000000' <<<"$hc" >/dev/null \
    || { echo "want interval 30s, timeout 10s, start period 40s" >&2; return 1; }
  # The test must probe /config: either inline, or in the script the test runs.
  local test_cmd; test_cmd=$(jq -r '.Test | join(" ")' <<<"$hc")
  if grep -q '/config' <<<"$test_cmd"; then return 0; fi
  local script; script=$(jq -r '.Test[1]' <<<"$hc")
  engine exec "$1" grep -q 'localhost:4096/config' "$script" \
    || { echo "health check test '$test_cmd' does not probe http://localhost:4096/config" >&2; return 1; }
}

check_healthcheck_passes() { health_check_passes "$1" 90; }

# ---- b. /config and Basic auth ----
check_config_200() { wait_for_status 200 120 "$1/config" >/dev/null; }

check_auth_rejects_anonymous() {
  local code; code=$(http_status "$1/config")
  [ "$code" = 401 ] || { echo "GET /config without credentials: $code, want 401" >&2; return 1; }
}

check_auth_rejects_wrong_password() {
  local code; code=$(http_status "$1/config" -K <(printf 'user = "opencode:not-the-password"\n'))
  [ "$code" = 401 ] || { echo "GET /config with a wrong password: $code, want 401" >&2; return 1; }
}

# The password comes from the environment through a curl config on a pipe: never on a command line.
# Polled: the first authenticated request starts OpenCode's instance and can take a while on a slow image.
check_auth_accepts_password() {
  local credentials; credentials=$(mktemp); chmod 600 "$credentials"
  printf 'user = "opencode:%s"\n' "$OPENCODE_SERVER_PASSWORD" >"$credentials"
  wait_for_status 200 60 "$1/config" -K "$credentials" >/dev/null; local status=$?
  rm -f "$credentials"
  return "$status"
}

# ---- c. process tree ----
check_entrypoint() {
  local entrypoint; entrypoint=$(image_json .Config.Entrypoint | jq -c .)
  [ "$entrypoint" = "$EXPECTED_ENTRYPOINT" ] || { echo "ENTRYPOINT $entrypoint, want $EXPECTED_ENTRYPOINT" >&2; return 1; }
}

# Closed by default: with no password on its 0.0.0.0 bind the image does not start, and says why in one line naming
# the variable and the opt-out, with exit 78 (scripts/check-secrets).
check_no_password_refuses_to_start() {
  local name="$RUN_ID-no-password" id code lines
  id=$(start_container "$name" --network none) || return 1
  code=$(engine wait "$id" 2>/dev/null | tail -1)
  lines=$(engine logs "$id" 2>&1 | grep -v '^$')
  engine rm -f "$id" >/dev/null 2>&1
  echo "exit $code: $lines" >&2
  [ "$code" = 78 ] && [ "$(wc -l <<<"$lines")" -eq 1 ] \
    && grep -q 'OPENCODE_SERVER_PASSWORD_FILE' <<<"$lines" && grep -q 'OPENCODE_SERVER_ALLOW_NO_PASSWORD=1' <<<"$lines"
}

check_pid1_is_tini() {
  local pid1; pid1=$(engine exec "$1" sh -c 'tr "\0" " " </proc/1/cmdline')
  echo "PID 1: $pid1" >&2
  case "$pid1" in tini\ -g\ *|*/tini\ -g\ *) return 0 ;; *) return 1 ;; esac
}

check_opencode_serves() {
  local pid argv
  pid=$(opencode_serve_pid "$1")
  [ -n "$pid" ] || { echo "no 'opencode serve' process:" >&2; engine exec "$1" sh -c "$LIST_PROCESSES" >&2; return 1; }
  argv=$(engine exec "$1" sh -c "tr '\0' ' ' </proc/$pid/cmdline")
  echo "pid $pid: $argv" >&2
  grep -qE '(^|/)opencode serve --hostname 0\.0\.0\.0 --port 4096 ?$' <<<"$argv"
}

check_ddtrace_bootstrap_in_environ() {
  local pid pythonpath
  pid=$(opencode_serve_pid "$1")
  [ -n "$pid" ] || { echo "no 'opencode serve' process" >&2; return 1; }
  pythonpath=$(engine exec "$1" sh -c "tr '\0' '\n' </proc/$pid/environ" | sed -n 's/^PYTHONPATH=//p')
  echo "PYTHONPATH of pid $pid: ${pythonpath:-<unset>}" >&2
  grep -q 'ddtrace/bootstrap' <<<"$pythonpath"
}

# ---- d. contents ----
check_venv_imports() {
  engine exec "$1" /opt/venv/bin/python -c 'import graphiti_core, falkordb, redis, ddtrace, datadog_api_client, b2sdk'
}

check_tools_present() {
  local missing
  missing=$(engine exec "$1" sh -c 'for tool in rclone redis-cli cron git curl tini opencode; do command -v "$tool" >/dev/null || echo "$tool"; done')
  [ -z "$missing" ] || { echo "missing: $missing" >&2; return 1; }
  local version; version=$(engine exec "$1" opencode --version 2>&1 | tail -1)
  echo "opencode --version: $version" >&2
  [ "$version" = "$EXPECTED_OPENCODE_VERSION" ]
}

# A path is left out on purpose when the context's ignore file says so: .containerignore, else .dockerignore, read
# as Docker does (in order, the last matching pattern wins, "!" re-includes, a pattern matching a directory covers
# everything under it). Bash's [[ == ]] lets "*" cross "/", close enough for these files.
_ignored_by_context() {
  local path=$1 file="" pattern negated ignored=1 prefix part
  for file in "$CONTEXT_DIR/.containerignore" "$CONTEXT_DIR/.dockerignore" ""; do [ -f "$file" ] && break; done
  [ -n "$file" ] || return 1
  while IFS= read -r pattern || [ -n "$pattern" ]; do
    pattern=${pattern%%$'\r'}; pattern=${pattern%/}; pattern=${pattern#./}; pattern=${pattern#/}
    case "$pattern" in ''|'#'*) continue ;; esac
    negated=0; [ "${pattern:0:1}" = '!' ] && { negated=1; pattern=${pattern:1}; }
    prefix=""
    local matched=1
    local IFS_SAVE=$IFS; IFS=/
    for part in $path; do
      prefix=${prefix:+$prefix/}$part
      # shellcheck disable=SC2053
      if [[ $prefix == $pattern ]]; then matched=0; break; fi
    done
    IFS=$IFS_SAVE
    [ "$matched" -eq 0 ] && ignored=$negated
  done <"$file"
  return "$ignored"
}

# Every file of plugin/, graphiti/, scripts/ and config.json is in the image, byte for byte.
check_copied_paths() {
  local -A targets=([plugin]=/root/.opencode/plugin [graphiti]=/root/.opencode/graphiti [scripts]=/app/scripts)
  local expected; expected=$(mktemp)
  local source path
  for source in "${!targets[@]}"; do
    while IFS= read -r -d '' path; do
      _ignored_by_context "$path" && continue
      printf '%s  %s\n' "$(sha256sum <"$CONTEXT_DIR/$path" | cut -d' ' -f1)" "${targets[$source]}/${path#"$source"/}"
    done < <(cd "$CONTEXT_DIR" && find "$source" -type f -print0)
  done >"$expected"
  printf '%s  %s\n' "$(sha256sum <"$CONTEXT_DIR/config.json" | cut -d' ' -f1)" /root/.config/opencode/opencode.json >>"$expected"
  local result
  result=$(engine exec -i "$1" sha256sum -c --quiet - <"$expected" 2>&1); local status=$?
  echo "$(wc -l <"$expected") files compared" >&2
  rm -f "$expected"
  [ "$status" -eq 0 ] || { echo "$result" >&2; return 1; }
}

check_env_defaults() {
  local env; env=$(image_json .Config.Env)
  local want missing=()
  for want in FALKORDB_HOST=localhost FALKORDB_PORT=6379 VALKEY_HOST=localhost VALKEY_PORT=6380 \
    OPENCODE_DISABLE_LSP_DOWNLOAD=1 OPENCODE_DISABLE_MODELS_FETCH=1; do
    jq -e --arg w "$want" 'index($w) != null' <<<"$env" >/dev/null || missing+=("$want")
  done
  for want in DD_SERVICE DD_VERSION; do
    jq -e --arg w "$want=" 'map(select(startswith($w) and length > ($w | length))) | length == 1' <<<"$env" >/dev/null || missing+=("$want=<non-empty>")
  done
  jq -e 'has("4096/tcp")' <<<"$(image_json .Config.ExposedPorts)" >/dev/null || missing+=("EXPOSE 4096")
  [ "${#missing[@]}" -eq 0 ] || { echo "image env: $env; missing: ${missing[*]}" >&2; return 1; }
}

# ---- e. plugin ----
_config_json() {
  if [ "$2" = inside ]; then engine exec "$1" curl -s -m 5 http://localhost:4096/config
  else curl -s -m 5 "$2/config"; fi
}

check_plugin_listed() {
  local plugins; plugins=$(_config_json "$1" "$2" | jq -c '.plugin // []')
  echo "/config .plugin: $plugins" >&2
  jq -e --arg dir "$PLUGIN_DIR_URL" 'map(select(startswith($dir))) | length > 0' <<<"$plugins" >/dev/null
}

# Positive proof that the plugin's code ran: it logs "[graphiti-memory] started memory process (pid N)" when it
# starts the memory manager (which then may exit for want of FalkorDB: not this check's business).
check_plugin_started_memory_process() {
  local waited=0
  while [ "$waited" -lt 60 ]; do
    # Read whole, then searched: `logs | grep -q` under pipefail fails when grep stops reading early.
    local logs; logs=$(engine logs "$1" 2>&1)
    grep -qF '[graphiti-memory] started memory process' <<<"$logs" && return 0
    sleep 2; waited=$((waited + 2))
  done
  echo "no '[graphiti-memory] started memory process' in the container log within 60s; its [graphiti-memory] lines:" >&2
  engine logs "$1" 2>&1 | grep -F '[graphiti-memory]' | tail -5 >&2
  return 1
}

# OpenCode logs `level=ERROR ... message="failed to load plugin"` in its log file; stdout/stderr may carry more.
check_no_plugin_failure() {
  local logs
  logs=$( { engine logs "$1" 2>&1; engine exec "$1" sh -c 'cat /root/.local/share/opencode/log/*.log 2>/dev/null'; } )
  local failures
  failures=$(grep -iE 'failed to load plugin|error loading plugin|plugin.*(could not be loaded|failed to (load|import|install))|cannot find (module|package)' <<<"$logs" || true)
  [ -z "$failures" ] || { echo "$failures" | head -20 >&2; return 1; }
}

# ---- f. stop ----
check_sigterm_stop() {
  local start end elapsed code
  start=$(date +%s.%N)
  engine stop -t 10 "$1" >/dev/null 2>&1
  end=$(date +%s.%N)
  elapsed=$(awk -v a="$start" -v b="$end" 'BEGIN{printf "%.1f", b-a}')
  code=$(engine inspect --format '{{.State.ExitCode}}' "$1")
  echo "stop took ${elapsed}s, exit code $code" >&2
  STOP_SECONDS=$elapsed
  awk -v e="$elapsed" 'BEGIN{exit !(e < 5)}' && { [ "$code" = 143 ] || [ "$code" = 0 ]; }
}

# ---- g. secrets ----
check_secret_not_in_image() {
  local found=0
  local config_and_history; config_and_history=$(image_json . ; engine history --no-trunc "$IMAGE_UNDER_TEST")
  [ -n "$config_and_history" ] || { echo "could not read the image config and history" >&2; return 1; }
  if grep -qF -- "$OPENCODE_SERVER_PASSWORD" <<<"$config_and_history"; then
    echo "the run-time password appears in the image config or history" >&2; found=1
  fi
  # No ENV/ARG baked in with a secret-looking name and a value.
  local baked
  baked=$(image_json .Config.Env | jq -r '.[] | select(test("^[A-Z0-9_]*(PASSWORD|SECRET|TOKEN|API_KEY|APP_KEY|APPLICATION_KEY|ACCESS_KEY)[A-Z0-9_]*=.+"))')
  [ -z "$baked" ] || { echo "secret-looking ENV in the image: ${baked%%=*}=…" >&2; found=1; }
  return "$found"
}

check_no_credential_files() {
  local found
  found=$(engine run --rm --network none --no-healthcheck --entrypoint sh "$IMAGE_UNDER_TEST" -c '
    find / -xdev \( -path /proc -o -path /sys \) -prune -o -type f \( -name .netrc -o -name _netrc -o -name rclone.conf \
      -o -name .git-credentials -o -name .pypirc -o -name .boto -o -name .s3cfg -o -name "*.b2_account_info" \
      -o -name .b2_account_info -o -path "*/.aws/credentials" -o -path "*/.docker/config.json" \) -print
    for f in $(find / -xdev \( -path /proc -o -path /sys \) -prune -o -type f -name .npmrc -print); do
      grep -qE "_authToken|_auth *=|_password" "$f" && echo "$f (npm credentials)"
    done
    for f in /root/.config/pip/pip.conf /etc/pip.conf; do
      [ -f "$f" ] && grep -qE "://[^/@]+:[^/@]+@" "$f" && echo "$f (index URL with credentials)"
    done; true' 2>/dev/null)
  [ -z "$found" ] || { echo "credential files in the image:" >&2; echo "$found" >&2; return 1; }
}

# The published recipe must not carry this machine's CA certificates or proxy settings.
check_recipe_has_no_local_trust() {
  local hits; hits=$(grep -nE 'NODE_EXTRA_CA_CERTS|PIP_CERT|REQUESTS_CA_BUNDLE|SSL_CERT_FILE|\.crt|https?_proxy' "$CONTAINERFILE" || true)
  [ -z "$hits" ] || { echo "$hits" >&2; return 1; }
}

# The same acceptance-criteria script the Dagger module's `acceptance-criteria` check runs in the Dagger-built image
# (dagger/src/acceptance-checks.ts), run here in the Podman-built one: one list of criteria for both routes.
check_shared_acceptance_criteria() {
  local script report
  script=$(cd "$REPO_ROOT" && npx --no-install tsx tools/print-acceptance-script.ts) || { echo "could not render the acceptance script (npm ci first)" >&2; return 1; }
  report=$(printf '%s' "$script" | engine exec -i "$1" sh)
  local status=$?
  grep '^FAIL' <<<"$report" >&2
  echo "$(grep -c '^PASS' <<<"$report") criteria hold" >&2
  return "$status"
}
