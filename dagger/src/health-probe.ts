import { HEALTHCHECK_COMMAND } from "./image-spec.js"

/** Where OpenCode writes its log files inside the image. */
export const SERVER_LOG_DIRECTORY = "/root/.local/share/opencode/log"

/**
 * The script the healthcheck function runs beside the server: the image's own health check, retried, printing the
 * /config body on success and, on failure, the last error and the server's last log lines on stderr.
 */
export function probeScript(
  attempts: number,
  healthcheck: string = HEALTHCHECK_COMMAND.join(" "),
  logDirectory: string = SERVER_LOG_DIRECTORY,
): string {
  return `set -u
attempt=0
while [ "$attempt" -lt ${attempts} ]; do
  attempt=$((attempt + 1))
  if body=$(HEALTHCHECK_PRINT_BODY=1 ${healthcheck} 2>/tmp/healthcheck-error); then
    printf '%s\\n' "$body"
    exit 0
  fi
  sleep 2
done
{
  echo "GET $HEALTHCHECK_URL gave no 200 after ${attempts} attempts; last error: $(cat /tmp/healthcheck-error)"
  echo "last lines of the server log:"
  log=$(ls -t ${logDirectory}/*.log 2>/dev/null | head -n 1)
  if [ -n "$log" ]; then tail -n 40 "$log"; else echo "(the server wrote no log)"; fi
} >&2
exit 1
`
}
