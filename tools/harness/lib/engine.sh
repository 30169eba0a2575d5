# Container engine set-up for the harness: installs Debian's Podman (or Docker) and points it at a working folder of
# our own, so nothing here touches the machine's global container configuration.
# Sourced by prove-image.sh and image-bench.sh; expects REPO_ROOT, WORK_DIR, ENGINE and log() to be defined.

install_debian_packages() {
  local missing=() package
  for package in "$@"; do
    [ "$(dpkg-query -W -f='${Status}' "$package" 2>/dev/null)" = 'install ok installed' ] || missing+=("$package")
  done
  [ "${#missing[@]}" -eq 0 ] && return 0
  log "installing Debian packages: ${missing[*]}"
  [ "$(id -u)" -eq 0 ] || { echo "need root to apt-get install ${missing[*]}" >&2; return 1; }
  DEBIAN_FRONTEND=noninteractive apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

# The host's hard limits cap what a container may ask for; asking for more fails with
# "setrlimit RLIMIT_NOFILE: Operation not permitted".
_capped_limit() { local wanted=$1 hard=$2; [ "$hard" = unlimited ] || [ "$hard" -ge "$wanted" ] && echo "$wanted" || echo "$hard"; }

configure_podman() {
  local conf_dir="$WORK_DIR/podman"
  mkdir -p "$conf_dir/storage" "$conf_dir/run" "$conf_dir/tmp"
  local nofile nproc
  nofile=$(_capped_limit 20000 "$(ulimit -Hn)")
  nproc=$(_capped_limit 32768 "$(ulimit -Hu)")
  # crun fails on this kind of host (cgroup v1 with a partial v2 mount); there is no systemd, hence cgroupfs and a
  # file events log.
  cat >"$conf_dir/containers.conf" <<CONF
[containers]
default_ulimits = ["nofile=$nofile:$nofile", "nproc=$nproc:$nproc"]
log_driver = "k8s-file"

[engine]
runtime = "runc"
cgroup_manager = "cgroupfs"
events_logger = "file"
events_logfile_path = "$conf_dir/events.log"
tmp_dir = "$conf_dir/tmp"
CONF
  cat >"$conf_dir/storage.conf" <<CONF
[storage]
driver = "overlay"
graphroot = "$conf_dir/storage"
runroot = "$conf_dir/run"
CONF
  export CONTAINERS_CONF="$conf_dir/containers.conf"
  export CONTAINERS_STORAGE_CONF="$conf_dir/storage.conf"
}

DOCKERD_PID=""
start_private_dockerd() {
  local dir="$WORK_DIR/docker"
  mkdir -p "$dir/data" "$dir/exec"
  export DOCKER_HOST="unix://$dir/docker.sock"
  if docker version >/dev/null 2>&1; then return 0; fi
  dockerd --data-root "$dir/data" --exec-root "$dir/exec" --pidfile "$dir/pid" -H "$DOCKER_HOST" \
    --bridge=none --iptables=false >"$dir/dockerd.log" 2>&1 &
  DOCKERD_PID=$!
  local waited=0
  until docker version >/dev/null 2>&1; do
    sleep 1; waited=$((waited + 1))
    [ "$waited" -lt 60 ] || { tail -20 "$dir/dockerd.log" >&2; return 1; }
  done
}

stop_private_dockerd() {
  [ -n "$DOCKERD_PID" ] || return 0
  kill "$DOCKERD_PID" 2>/dev/null || true
  local waited=0
  while kill -0 "$DOCKERD_PID" 2>/dev/null && [ "$waited" -lt 30 ]; do sleep 1; waited=$((waited + 1)); done
  DOCKERD_PID=""
  # dockerd leaves its default network namespace mounted under its exec root.
  local mount_point
  for mount_point in $(awk -v root="$WORK_DIR/docker/exec/" 'index($2, root) == 1 {print $2}' /proc/mounts | sort -r); do
    umount "$mount_point" 2>/dev/null || true
  done
}

# Sets up ENGINE (podman|docker) so that `engine ...` runs it against our working folder.
prepare_engine() {
  case "$ENGINE" in
    podman)
      # Recommends are not installed: netavark and iptables are what `run -p` (a published port) needs.
      install_debian_packages podman runc netavark iptables
      configure_podman
      ;;
    docker)
      install_debian_packages docker.io
      start_private_dockerd
      ;;
    *) echo "unknown engine: $ENGINE (podman|docker)" >&2; return 1 ;;
  esac
}

engine() { "$ENGINE" "$@"; }
