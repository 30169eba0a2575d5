# QEMU user emulation for building and running images of another architecture (Debian's qemu-user-static with
# binfmt-support), set up for as long as a script needs it and then put back exactly as it was found.
# Sourced; expects log() and install_debian_packages() (lib/engine.sh) to be defined. Needs root.
#
#   enable_emulation ARCH    nothing when ARCH is the host's; else mounts binfmt_misc if it is not, and registers (or
#                            re-enables) qemu-ARCH with binfmt-support's flags (F: the kernel opens the interpreter at
#                            registration, so it also serves inside containers). Appends what it changed to
#                            EMULATION_CHANGES, words such as "mounted-binfmt_misc registered:qemu-aarch64".
#   undo_emulation WORD...   undoes those words, newest first (default: $EMULATION_CHANGES), and logs what it did.
# A script calls `trap 'undo_emulation' EXIT` after enable_emulation; tools/harness/emulation.sh is the same from the
# command line (tests/support/emulation.py uses it).

readonly BINFMT_MISC=/proc/sys/fs/binfmt_misc
EMULATION_CHANGES=""

# Debian's architecture name to QEMU's.
_qemu_name() { case "$1" in arm64) echo aarch64 ;; amd64) echo x86_64 ;; *) echo "$1" ;; esac; }

enable_emulation() {
  local arch=$1
  [ "$arch" != "$(dpkg --print-architecture)" ] || return 0
  local interpreter; interpreter="qemu-$(_qemu_name "$arch")"
  [ "$(id -u)" -eq 0 ] || { echo "emulation of $arch needs root (binfmt_misc)" >&2; return 1; }
  install_debian_packages qemu-user-static binfmt-support || return 1
  if ! mountpoint -q "$BINFMT_MISC"; then
    mount -t binfmt_misc binfmt_misc "$BINFMT_MISC" || return 1
    EMULATION_CHANGES="$EMULATION_CHANGES mounted-binfmt_misc"
    log "emulation: mounted binfmt_misc on $BINFMT_MISC"
  fi
  if [ ! -e "$BINFMT_MISC/$interpreter" ]; then
    update-binfmts --enable "$interpreter" || return 1
    EMULATION_CHANGES="$EMULATION_CHANGES registered:$interpreter"
    log "emulation: registered $interpreter ($(grep -E '^(interpreter|flags)' "$BINFMT_MISC/$interpreter" | tr '\n' ' '))"
  elif [ "$(head -1 "$BINFMT_MISC/$interpreter")" = disabled ]; then
    echo 1 >"$BINFMT_MISC/$interpreter" || return 1
    EMULATION_CHANGES="$EMULATION_CHANGES enabled:$interpreter"
    log "emulation: re-enabled the registered $interpreter"
  fi
  EMULATION_CHANGES=${EMULATION_CHANGES# }
}

undo_emulation() {
  local changes=("$@")
  [ "$#" -gt 0 ] || read -r -a changes <<<"$EMULATION_CHANGES"
  local index change status=0
  for ((index = ${#changes[@]} - 1; index >= 0; index--)); do
    change=${changes[index]}
    case "$change" in
      registered:*) update-binfmts --disable "${change#*:}" || status=1 ;;
      enabled:*) echo 0 >"$BINFMT_MISC/${change#*:}" || status=1 ;;
      mounted-binfmt_misc) umount "$BINFMT_MISC" || status=1 ;;
      *) echo "undo_emulation: unknown change '$change'" >&2; status=1; continue ;;
    esac
    log "emulation: undone $change"
  done
  EMULATION_CHANGES=""
  return "$status"
}
