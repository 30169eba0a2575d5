# Running the image under test and waiting on it, every wait bounded. Tracks what it starts so cleanup can remove it.
# Sourced; expects ENGINE, engine(), log().

STARTED_CONTAINERS=()
CREATED_IMAGES=()

free_loopback_port() {
  local port
  for _ in $(seq 1 50); do
    port=$((20000 + RANDOM % 30000))
    (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null || { echo "$port"; return 0; }
  done
  return 1
}

# start_container NAME [engine run options...] -- starts detached from IMAGE_UNDER_TEST; echoes the id.
# NAME must contain RUN_ID.
start_container() {
  local name=$1; shift
  local id
  # Called in $(...), so it cannot record the id in this shell: cleanup finds containers by the RUN_ID in their name.
  id=$(engine run -d --name "$name" "$@" "$IMAGE_UNDER_TEST" 2>"$WORK_DIR/run-$name.err") \
    || { cat "$WORK_DIR/run-$name.err" >&2; rm -f "$WORK_DIR/run-$name.err"; return 1; }
  rm -f "$WORK_DIR/run-$name.err"
  echo "$id"
}

# http_status URL [curl options...] -- the status code, 000 when nothing answered within 2 s.
http_status() {
  local url=$1; shift
  curl -s -m 2 -o /dev/null -w '%{http_code}' "$@" "$url" 2>/dev/null || true
}

# wait_for_status WANT TIMEOUT_S URL [curl options...] -- polls until the status is WANT; echoes the seconds taken.
wait_for_status() {
  local want=$1 timeout_s=$2 url=$3; shift 3
  local start now code
  start=$(date +%s.%N)
  while :; do
    code=$(http_status "$url" "$@")
    now=$(date +%s.%N)
    if [ "$code" = "$want" ]; then awk -v a="$start" -v b="$now" 'BEGIN{printf "%.1f\n", b-a}'; return 0; fi
    if awk -v a="$start" -v b="$now" -v t="$timeout_s" 'BEGIN{exit !(b-a > t)}'; then
      echo "no $want from $url within ${timeout_s}s (last status $code)" >&2; return 1
    fi
    sleep 0.25
  done
}

# The same from inside the container (for --network none), using the image's own curl.
wait_for_status_inside() {
  local container=$1 want=$2 timeout_s=$3 path=$4
  local waited=0 code
  while [ "$waited" -lt "$timeout_s" ]; do
    code=$(engine exec "$container" curl -s -m 2 -o /dev/null -w '%{http_code}' "http://localhost:4096$path" 2>/dev/null || true)
    [ "$code" = "$want" ] && return 0
    sleep 1; waited=$((waited + 1))
  done
  echo "no $want on $path inside $container within ${timeout_s}s (last status $code)" >&2
  return 1
}

# Podman runs health checks on demand (its timer needs systemd, absent here); Docker runs them itself.
health_check_passes() {
  local container=$1 timeout_s=${2:-90}
  if [ "$ENGINE" = podman ]; then
    local waited=0
    # Bounded here: podman 4.3's `healthcheck run` does not enforce the check's own --timeout (a curl without
    # --max-time against a starting OpenCode was seen hanging for minutes).
    until timeout 20 "$ENGINE" healthcheck run "$container" >/dev/null 2>&1; do
      sleep 2; waited=$((waited + 2))
      if [ "$waited" -ge "$timeout_s" ]; then
        echo "podman healthcheck run kept failing for ${timeout_s}s; last results (exit code, output):" >&2
        engine inspect --format '{{json .State.Health.Log}}' "$container" | jq -c '.[-3:][] | [.ExitCode, .Output]' >&2
        return 1
      fi
    done
  fi
  local waited=0 status
  while :; do
    status=$(engine inspect --format '{{.State.Health.Status}}' "$container" 2>/dev/null)
    [ "$status" = healthy ] && return 0
    [ "$waited" -lt "$timeout_s" ] || { echo "health status '$status' after ${timeout_s}s" >&2; return 1; }
    sleep 2; waited=$((waited + 2))
  done
}

container_log_tail() { [ -n "${CURRENT_CONTAINER:-}" ] && engine logs --tail "${LOG_TAIL_LINES:-40}" "$CURRENT_CONTAINER"; }

remove_started() {
  local id
  for id in "${STARTED_CONTAINERS[@]}" $(engine ps -a -q --filter "name=$RUN_ID" 2>/dev/null); do engine rm -f -t 0 "$id" >/dev/null 2>&1 || engine rm -f "$id" >/dev/null 2>&1 || true; done
  STARTED_CONTAINERS=()
  # Untagged parents only these images use go with them; layers other images or the cache share stay.
  for id in "${CREATED_IMAGES[@]}"; do engine rmi -f "$id" >/dev/null 2>&1 || true; done
  CREATED_IMAGES=()
}
