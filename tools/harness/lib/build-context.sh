# A build context = the repository as a fresh clone plus uncommitted work would have it: tracked and untracked
# files, minus what git ignores, minus the harness's own working folder and host-side installs (.venv, node_modules)
# that must never reach an image. Building from a copy also lets the benchmark edit plugin/ without touching the repo.
# Sourced; expects REPO_ROOT.

make_build_context() {
  local destination=$1
  mkdir -p "$destination"
  (cd "$REPO_ROOT" && git ls-files -z --cached --others --exclude-standard \
     | grep -z -v -E '(^|/)(\.work|\.venv|node_modules|__pycache__)(/|$)' \
     | while IFS= read -r -d '' path; do [ -e "$path" ] && printf '%s\0' "$path"; done \
     | tar --null -T - -c) | tar -x -C "$destination"
}
