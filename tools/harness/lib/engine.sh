# Container engine set-up for the harness: installs Debian's Podman and points it at a working folder of
# our own, so nothing here touches the machine's global container configuration.
# Sourced by the harness's scripts and the image benchmarks; expects REPO_ROOT, WORK_DIR, ENGINE=podman and log().

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

# Sets up Podman so that `engine ...` runs it against our working folder. (Docker builds the same Containerfile by
# hand: tools/make-ca-base.sh --engine docker prints that build's command.)
prepare_engine() {
  [ "$ENGINE" = podman ] || { echo "the harness runs Podman only, not '$ENGINE'" >&2; return 1; }
  # Recommends are not installed: netavark and iptables are what `run -p` (a published port) needs.
  install_debian_packages podman runc netavark iptables
  configure_podman
}

engine() { "$ENGINE" "$@"; }
