# log MESSAGE: a timestamped progress line on stderr, for the harness's and benchmarks' Bash tools.

log() { printf '[%s] %s\n' "$(date +%T)" "$*" >&2; }
