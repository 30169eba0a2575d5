# A free loopback port, an HTTP status, and removing what a run started (by the RUN_ID in container names, and the
# images it listed in CREATED_IMAGES). Sourced by tools/bench/image-bench.sh; expects ENGINE, engine(), RUN_ID.

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

# http_status URL [curl options...] -- the status code, 000 when nothing answered within 2 s.
http_status() {
  local url=$1; shift
  curl -s -m 2 -o /dev/null -w '%{http_code}' "$@" "$url" 2>/dev/null || true
}

remove_started() {
  local id
  for id in "${STARTED_CONTAINERS[@]}" $(engine ps -a -q --filter "name=$RUN_ID" 2>/dev/null); do engine rm -f -v -t 0 "$id" >/dev/null 2>&1 || engine rm -f -v "$id" >/dev/null 2>&1 || true; done
  STARTED_CONTAINERS=()
  # Untagged parents only these images use go with them; layers other images or the cache share stay.
  for id in "${CREATED_IMAGES[@]}"; do engine rmi -f "$id" >/dev/null 2>&1 || true; done
  CREATED_IMAGES=()
}
