#!/usr/bin/env bash
# QEMU user emulation from the command line (lib/emulation.sh), for runners in other languages:
#
#   bash tools/harness/emulation.sh enable ARCH     sets it up; prints on stdout what it changed (possibly nothing)
#   bash tools/harness/emulation.sh undo WORD...     undoes exactly those words (what `enable` printed)
#
# ARCH is a Debian architecture (arm64). Nothing is changed when ARCH is the host's or emulation is already set up.
set -euo pipefail
HARNESS_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=lib/report.sh
source "$HARNESS_DIR/lib/report.sh"
# shellcheck source=lib/engine.sh
source "$HARNESS_DIR/lib/engine.sh"
# shellcheck source=lib/emulation.sh
source "$HARNESS_DIR/lib/emulation.sh"

case "${1:-}" in
  enable)
    [ $# -eq 2 ] || { echo "usage: emulation.sh enable ARCH" >&2; exit 2; }
    # A half-done set-up is undone before failing.
    enable_emulation "$2" >&2 || { undo_emulation >&2 || true; exit 1; }
    echo "$EMULATION_CHANGES" ;;
  undo)
    shift; [ $# -eq 0 ] || undo_emulation "$@" ;;
  *) awk 'NR > 1 && !/^#/ {exit} NR > 1 {sub(/^# ?/, ""); print}' "${BASH_SOURCE[0]}" >&2; exit 2 ;;
esac
