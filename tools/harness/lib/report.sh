# PASS/FAIL bookkeeping for the harness. Each check is a function that returns non-zero on failure and writes its
# evidence to stderr; run_check prints one line per check and, on failure, the evidence and the relevant log's tail.
# Sourced; the caller sets LOG_TAIL_SOURCE to a function name that prints the log that explains a failure.

PASSED=0
FAILED=0
FAILED_NAMES=()
LOG_TAIL_SOURCE=""
LOG_TAIL_LINES=${LOG_TAIL_LINES:-40}

log() { printf '[%s] %s\n' "$(date +%T)" "$*" >&2; }

run_check() {
  local name=$1; shift
  local evidence; evidence=$(mktemp)
  if "$@" 2>"$evidence"; then
    printf 'PASS %s\n' "$name"
    PASSED=$((PASSED + 1))
  else
    printf 'FAIL %s\n' "$name"
    sed 's/^/     | /' "$evidence" | tail -n 30
    FAILED=$((FAILED + 1))
    FAILED_NAMES+=("$name")
    if [ -n "$LOG_TAIL_SOURCE" ]; then
      printf '     last %s lines of %s:\n' "$LOG_TAIL_LINES" "$LOG_TAIL_SOURCE"
      "$LOG_TAIL_SOURCE" 2>&1 | tail -n "$LOG_TAIL_LINES" | sed 's/^/     > /'
    fi
  fi
  rm -f "$evidence"
}

# A step the checks depend on failed: count it, and say so.
fail_step() { printf 'FAIL %s\n' "$1"; FAILED=$((FAILED + 1)); FAILED_NAMES+=("$1"); }

skip_check() { printf 'SKIP %s (%s)\n' "$1" "$2"; }

print_summary() {
  [ "$FAILED" -eq 0 ] || printf 'failed checks: %s\n' "${FAILED_NAMES[*]}"
  printf '%d passed, %d failed\n' "$PASSED" "$FAILED"
}
