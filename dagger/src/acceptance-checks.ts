import {
  COPIED_PATHS,
  DEFAULT_OPENCODE_VERSION,
  ENTRYPOINT,
  HEALTHCHECK_COMMAND,
  imageSpec,
  PLUGIN_DEPENDENCY_DIRECTORIES,
  SECRET_CHECK_SCRIPT,
  STATE_CHECK_SCRIPT,
  STATE_DIRECTORIES,
  VENV_MODULES,
} from "./image-spec.js"

/** One acceptance criterion of the proposal, checked inside the built image by a POSIX shell command. */
export interface AcceptanceCheck {
  name: string
  command: string
}

function environmentDefaults(): Record<string, string> {
  const env = imageSpec.steps.find((step) => step.kind === "env")
  if (!env || env.kind !== "env") throw new Error("the image spec has no env step")
  return Object.fromEntries(Object.entries(env.variables).filter(([name]) => !name.includes("PATH")))
}

/** The proposal's acceptance criteria, as commands: shared by the Dagger check and the Podman harness. */
export function acceptanceChecks(opencodeVersion = DEFAULT_OPENCODE_VERSION): AcceptanceCheck[] {
  const checks: AcceptanceCheck[] = [
    { name: "venv imports the Graphiti, FalkorDB, Redis, ddtrace, Datadog API and B2 packages", command: `/opt/venv/bin/python -c 'import ${VENV_MODULES.join(", ")}'` },
    { name: "ddtrace-run is on PATH, from the venv", command: 'test "$(command -v ddtrace-run)" = /opt/venv/bin/ddtrace-run' },
    { name: "b2sdk's v2 API imports", command: "/opt/venv/bin/python -c 'import b2sdk.v2'" },
    { name: "rclone runs", command: "rclone version" },
    { name: "redis-cli runs", command: "redis-cli --version" },
    { name: "cron is installed", command: "command -v cron" },
    { name: "git runs", command: "git --version" },
    { name: "tini is installed", command: `command -v ${ENTRYPOINT[0]}` },
    { name: `opencode --version is ${opencodeVersion}`, command: `test "$(opencode --version)" = "${opencodeVersion}"` },
    { name: "health check script is executable", command: `test -x ${HEALTHCHECK_COMMAND[0]}` },
    { name: "the plugin is copied", command: `ls ${COPIED_PATHS.plugin.destination}*.ts` },
    { name: "the memory manager is copied", command: `test -f ${COPIED_PATHS.graphiti.destination}memory_manager.py` },
    { name: "scripts are copied", command: `test -d ${COPIED_PATHS.scripts.destination}` },
    { name: "config.json is OpenCode's global config", command: `test -s ${COPIED_PATHS.config.destination}` },
    ...PLUGIN_DEPENDENCY_DIRECTORIES.map((dir) => ({
      name: `plugin dependencies are preinstalled in ${dir}`,
      command: `test -f ${dir}/node_modules/@opencode-ai/plugin/package.json`,
    })),
  ]
  // Runs as any uid of group 0 (issue 9): state directories group-writable, /root traversable, HOME set for every uid.
  for (const dir of STATE_DIRECTORIES) {
    checks.push({
      name: `state directory ${dir} is owned by group 0 and group-writable`,
      command: `test -d ${dir} && test "$(stat -c %g ${dir})" = 0 && stat -c %A ${dir} | grep -q '^d...rwx'`,
    })
  }
  checks.push(
    { name: "/root is traversable by group 0", command: "stat -c %A /root | grep -q '^d...r.x'" },
    { name: "HOME is /root for every uid", command: 'test "$HOME" = /root' },
    { name: "the state check script is executable", command: `test -x ${STATE_CHECK_SCRIPT}` },
    { name: "the secret check script is executable", command: `test -x ${SECRET_CHECK_SCRIPT}` },
  )
  for (const [name, value] of Object.entries(environmentDefaults())) {
    checks.push({ name: `${name} defaults to ${value}`, command: `test "$${name}" = "${value}"` })
  }
  return checks
}

/** A POSIX shell script that runs every check, prints PASS or FAIL with its name, and exits 1 if any failed. */
export function acceptanceScript(checks: AcceptanceCheck[]): string {
  const lines = ["failed=0"]
  for (const check of checks) {
    const name = check.name.replaceAll("'", "")
    lines.push(
      `if ( ${check.command} ) >/dev/null 2>&1; then echo 'PASS ${name}'; else echo 'FAIL ${name}'; failed=1; fi`,
    )
  }
  lines.push('exit "$failed"')
  return lines.join("\n") + "\n"
}
