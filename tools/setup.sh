#!/usr/bin/env bash
# Installs everything the tests need, from the project's own files: Debian packages for the real servers and tools,
# the npm lockfiles, and the Python test venv from its hashed lock. Idempotent; safe to run on a fresh Debian 12 machine.
set -euo pipefail
cd "$(dirname "$0")/.."

# catatonit: the pause process Podman builds for the infra container of `podman kube play` pods (tests/pod)
debian_packages=(catatonit curl python3-venv rclone redis-server redis-tools)
missing=()
for package in "${debian_packages[@]}"; do
  dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" || missing+=("$package")
done
if ((${#missing[@]})); then
  echo "setup: apt-get install ${missing[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
# The Debian package starts a system redis on 6379 where systemd or init scripts run; tests start their own.
service redis-server stop >/dev/null 2>&1 || true

# Skipped where node_modules was installed from the same lockfile (by an earlier setup or the image harness).
bash tools/npm-ci-if-needed.sh . plugin

bash tools/python-venv-if-needed.sh .venv tests/requirements.lock
# The checkers of deploy/ and the Containerfile (tests/deploy): their own venv, as checkov pins many packages itself.
bash tools/python-venv-if-needed.sh .venv-deploy tests/deploy/requirements.lock
# Helm, for the chart's tests (tests/deploy): built from its pinned module through the Go module proxy (no binary
# download is reachable here), into .tools/bin; skipped when that version is already there (a marker per version).
# helm-docs writes the chart's README table from its values' comments.
for module in helm.sh/helm/v4/cmd/helm@v4.3.2 github.com/norwoodj/helm-docs/cmd/helm-docs@v1.14.2; do
  marker=".tools/${module##*/}"            # e.g. .tools/helm@v4.3.2
  binary=".tools/bin/${marker##*/}"
  binary="${binary%@*}"
  if [[ ! -x $binary || ! -f $marker ]]; then
    echo "setup: ${module##*/} from the Go module proxy"
    GOBIN="$PWD/.tools/bin" GOFLAGS=-trimpath go install "$module"
    touch "$marker"
  fi
done
echo "setup: done"
