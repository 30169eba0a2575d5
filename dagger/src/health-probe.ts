import { Container, ReturnType } from "@dagger.io/dagger"

import { COPIED_PATHS, ENTRYPOINT, HEALTHCHECK_COMMAND, SERVER_PORT } from "./image-spec.js"
import { PROBE_PATH, PROBE_PROGRAM } from "./probe-program.js"

/** Where OpenCode writes its log files inside the image. */
export const SERVER_LOG_DIRECTORY = "/root/.local/share/opencode/log"

/** Seconds between tries of each check. */
export const PROBE_INTERVAL_SECONDS = 2

export interface ProbeOptions {
  /** Tries of each check (/config, then memory /health), PROBE_INTERVAL_SECONDS apart. */
  attempts: number
  /** Whether memory must be up: FalkorDB and Valkey are bound and the memory process must report both reachable. */
  memory: boolean
  /** A value unique to this call: a changed variable makes the engine run the exec again instead of reusing a result. */
  run: string
}

/**
 * The container `healthcheck` runs: the server container (credentials and memory stack already set) runs the probe
 * program, which starts the image's entrypoint itself and checks it from inside. The server is deliberately not a
 * Dagger service here: a service's dependants start only after its readiness gate passes (core/service.go,
 * startContainer), so a server that never came up would end in the engine's generic "health check errored", never in
 * this probe's message naming the failed part with the server's last log lines. Inside the container the probe also
 * reaches the memory process, which listens on 127.0.0.1 only.
 */
export function healthcheckProbe(server: Container, options: ProbeOptions): Container {
  return server
    .withNewFile(PROBE_PATH, PROBE_PROGRAM)
    .withEnvVariable("HEALTHCHECK_URL", `http://127.0.0.1:${SERVER_PORT}/config`)
    .withEnvVariable("PROBE_HEALTHCHECK", HEALTHCHECK_COMMAND.join(" "))
    .withEnvVariable("PROBE_ATTEMPTS", String(options.attempts))
    .withEnvVariable("PROBE_INTERVAL_MS", String(PROBE_INTERVAL_SECONDS * 1000))
    .withEnvVariable("PROBE_CONFIG_FILE", COPIED_PATHS.config.destination)
    .withEnvVariable("PROBE_LOG_DIRECTORY", SERVER_LOG_DIRECTORY)
    .withEnvVariable("PROBE_MEMORY", options.memory ? "1" : "0")
    .withEnvVariable("PROBE_RUN", options.run)
    .withExec(["node", PROBE_PATH, ...ENTRYPOINT], { expect: ReturnType.Any })
}
