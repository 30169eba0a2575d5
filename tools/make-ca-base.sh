#!/usr/bin/env bash
# Makes a local base image that trusts extra CA certificates, such as a TLS-intercepting proxy's, so that the
# Containerfile can be built by hand behind that proxy while the recipe itself never names a CA:
#
#   bash tools/make-ca-base.sh [--engine podman|docker] [--ca-dir DIR] [--from REF] [--tag REF] [--platform P]
#   podman build --format docker --build-arg BASE_IMAGE=localhost/node:20-slim-with-ca \
#     -f containers/opencode-server/Containerfile -t opencode-server .
#
# --engine   podman (default when installed) or docker
# --ca-dir   the CA certificates to trust, as *.crt files (default /usr/local/share/ca-certificates)
# --from     the base image to extend (default docker.io/library/node:20-slim; a digest-pinned reference pins it)
# --tag      the name of the local base (default localhost/node:20-slim-with-ca)
# --platform the base's platform when it is not the host's, e.g. linux/arm64 (needs QEMU user emulation on an amd64
#            host; tools/harness/make-base.sh sets it up and undoes it)
#
# Run it again after the CAs or the base change: with the same inputs the engine's layer cache gives the same image.
# The base carries the CAs (in /usr/local/share/ca-certificates) and NODE_EXTRA_CA_CERTS, PIP_CERT, SSL_CERT_FILE and
# REQUESTS_CA_BUNDLE, so every image built on it trusts the proxy too: build what you publish on the plain base.
set -euo pipefail

ENGINE=""
CA_DIR=/usr/local/share/ca-certificates
FROM=docker.io/library/node:20-slim
TAG=localhost/node:20-slim-with-ca
PLATFORM=""

usage() { awk 'NR > 1 && !/^#/ {exit} NR > 1 {sub(/^# ?/, ""); print}' "${BASH_SOURCE[0]}"; }
usage_error() { echo "make-ca-base.sh: $1" >&2; echo >&2; usage >&2; exit 2; }
while [ $# -gt 0 ]; do
  case "$1" in
    --engine|--ca-dir|--from|--tag|--platform)
      [ -n "${2:-}" ] || usage_error "$1 needs a value"
      case "$1" in --engine) ENGINE=$2 ;; --ca-dir) CA_DIR=$2 ;; --from) FROM=$2 ;; --tag) TAG=$2 ;; --platform) PLATFORM=$2 ;; esac
      shift ;;
    -h|--help) usage; exit 0 ;;
    *) usage_error "unknown option: $1" ;;
  esac
  shift
done
if [ -z "$ENGINE" ]; then
  if command -v podman >/dev/null; then ENGINE=podman; elif command -v docker >/dev/null; then ENGINE=docker
  else echo "make-ca-base.sh: neither podman nor docker is installed" >&2; exit 1; fi
fi
case "$ENGINE" in podman|docker) ;; *) usage_error "--engine must be podman or docker, not '$ENGINE'" ;; esac
[ -d "$CA_DIR" ] || { echo "make-ca-base.sh: --ca-dir $CA_DIR: no such folder" >&2; exit 1; }
shopt -s nullglob
certificates=("$CA_DIR"/*.crt)
[ "${#certificates[@]}" -gt 0 ] || { echo "make-ca-base.sh: no *.crt file in $CA_DIR" >&2; exit 1; }

context=$(mktemp -d)
trap 'rm -rf "$context"' EXIT
mkdir "$context/certs"
cp "${certificates[@]}" "$context/certs/"
# node:20-slim has no CA bundle yet: Node gets the extra CAs as one file. It lives outside /etc/ssl/certs, where
# update-ca-certificates (run when the image's apt step installs ca-certificates) would warn that a file of several
# certificates cannot be hashed; that same run adds the *.crt files to the system bundle that pip, curl and git use.
cat >"$context/Containerfile" <<CONTAINERFILE
FROM $FROM
COPY certs/ /usr/local/share/ca-certificates/
RUN mkdir -p /usr/local/share/extra-ca && cat /usr/local/share/ca-certificates/*.crt > /usr/local/share/extra-ca/bundle.pem
ENV NODE_EXTRA_CA_CERTS=/usr/local/share/extra-ca/bundle.pem \\
    PIP_CERT=/etc/ssl/certs/ca-certificates.crt \\
    SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt \\
    REQUESTS_CA_BUNDLE=/etc/ssl/certs/ca-certificates.crt
CONTAINERFILE

# The engine's default pull policy: --from is pulled only when it is not in the local store yet.
platform=(); [ -z "$PLATFORM" ] || platform=(--platform "$PLATFORM")
"$ENGINE" build -q --network host "${platform[@]}" -f "$context/Containerfile" -t "$TAG" "$context" >/dev/null
echo "made $TAG: $FROM trusting ${#certificates[@]} CA certificate(s) from $CA_DIR"
# Made in a store of its own (the image harness's CONTAINERS_* files): the command must name that store to find it.
store=""
[ "$ENGINE" != podman ] || [ -z "${CONTAINERS_STORAGE_CONF:-}" ] \
  || store="CONTAINERS_CONF=${CONTAINERS_CONF:-} CONTAINERS_STORAGE_CONF=$CONTAINERS_STORAGE_CONF "
echo "build on it: $store$ENGINE build$([ "$ENGINE" = podman ] && echo ' --format docker')${PLATFORM:+ --platform $PLATFORM} --build-arg BASE_IMAGE=$TAG -f containers/opencode-server/Containerfile -t opencode-server ."
