#!/usr/bin/env bash
# Every test of the project, as CI runs it: type checks, the Dagger module and plugin tests (node's test runner),
# the Python suites against real FalkorDB/Redis/rclone and the doubles they name, and the quick start's proof of the
# image (tools/harness/prove-image.sh: the pytest suite tests/acceptance, one line per check). Ends with one
# "N passed, M failed" line.
set -uo pipefail
cd "$(dirname "$0")/.."

bash tools/setup.sh || { echo "setup failed"; exit 1; }

logs=$(mktemp -d)
passed=0
failed=0
failed_suites=()

# Adds a suite's counts, read from its runner's own summary lines.
count() {
  local suite=$1 log=$2 rc=$3 p f
  case $suite in
    node-*)
      p=$(grep -E '^ℹ pass [0-9]+' "$log" | tail -1 | awk '{print $3}')
      f=$(grep -E '^ℹ fail [0-9]+' "$log" | tail -1 | awk '{print $3}') ;;
    pytest-*)
      p=$(tail -5 "$log" | grep -oE '[0-9]+ passed' | tail -1 | awk '{print $1}')
      f=$(tail -5 "$log" | grep -oE '[0-9]+ (failed|error|errors)' | awk '{s+=$1} END {print s+0}') ;;
    *)
      p=$(grep -E '^[0-9]+ passed, [0-9]+ failed' "$log" | tail -1 | awk '{print $1}')
      f=$(grep -E '^[0-9]+ passed, [0-9]+ failed' "$log" | tail -1 | awk '{print $3}') ;;
  esac
  p=${p:-0}
  f=${f:-0}
  if [[ $rc -ne 0 && $f -eq 0 ]]; then f=1; fi
  passed=$((passed + p))
  failed=$((failed + f))
  if [[ $rc -ne 0 ]]; then failed_suites+=("$suite"); fi
}

suite() {
  local name=$1
  shift
  echo
  echo "=== $name: $*"
  "$@" 2>&1 | tee "$logs/$name.log"
  count "$name" "$logs/$name.log" "${PIPESTATUS[0]}"
}

typecheck() {
  local ok=0 bad=0 project
  for project in dagger/tsconfig.json plugin/tsconfig.json tsconfig.json; do
    if npx tsc -p "$project" --noEmit; then echo "PASS tsc -p $project"; ok=$((ok + 1)); else echo "FAIL tsc -p $project"; bad=$((bad + 1)); fi
  done
  echo "$ok passed, $bad failed"
  [[ $bad -eq 0 ]]
}

pytest_suites=()
# tests/image and tests/pod build the image themselves (tools/harness/build-image.sh) and run it with Podman;
# tests/image/test_node_bases.py builds it on node:22-slim and node:24-slim too (durations: docs/benchmarks/image.md).
for dir in graphiti/tests tests/backup tests/tracing tests/deploy tests/docs tests/image; do
  [[ -d $dir ]] && pytest_suites+=("$dir")
done

suite typecheck typecheck
suite node-tests npx tsx --test --test-reporter=spec --test-concurrency=1 tests/module/*.test.ts tests/plugin/*.test.ts
for dir in "${pytest_suites[@]}"; do
  suite "pytest-${dir//\//-}" .venv/bin/pytest -q -p no:cacheprovider "$dir"
done
suite pytest-tests-pod .venv/bin/pytest -q -p no:cacheprovider tests/pod
suite image-acceptance bash tools/harness/prove-image.sh

echo
if ((${#failed_suites[@]})); then echo "failed suites: ${failed_suites[*]}"; fi
echo "$passed passed, $failed failed"
rm -rf "$logs"
[[ $failed -eq 0 && ${#failed_suites[@]} -eq 0 ]]
