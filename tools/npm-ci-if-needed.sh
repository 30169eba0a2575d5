#!/usr/bin/env bash
# `npm ci` in each given folder (default: the repository root and plugin/) unless its node_modules was installed from
# the very same package-lock.json: setup.sh and the image harness both need them, and each npm ci takes minutes.
set -euo pipefail
cd "$(dirname "$0")/.."
STAMP=node_modules/.installed-package-lock.json
for folder in "${@:-. plugin}"; do
  for dir in $folder; do
    if [ -f "$dir/$STAMP" ] && cmp -s "$dir/package-lock.json" "$dir/$STAMP"; then
      echo "npm: $dir/node_modules is current (installed from this package-lock.json)"
      continue
    fi
    echo "npm ci ($dir)"
    npm ci --no-audit --no-fund --loglevel=error --prefix "$dir"
    cp "$dir/package-lock.json" "$dir/$STAMP"
  done
done
