import { Container, dag, ReturnType } from "@dagger.io/dagger"

import { COPIED_PATHS, ENTRYPOINT, HEALTHCHECK_COMMAND, SERVER_PORT } from "./image-spec.js"
import { PROBE_PATH, PROBE_PROGRAM } from "./probe-program.js"

/** Where OpenCode writes its log files inside the image. */
export const SERVER_LOG_DIRECTORY = "/root/.local/share/opencode/log"

/** Seconds between tries of each check. */
export const PROBE_INTERVAL_SECONDS = 2

/** The hostname the probe reaches the server's service by. */
export const SERVER_HOSTNAME = "opencode"

/** The folder the server's service and the probe share: a cache volume made for one call. */
export const SHARED_DIRECTORY = "/run/opencode-healthcheck"

export interface ProbeOptions {
  /** Tries of each check (/config, then memory /health), PROBE_INTERVAL_SECONDS apart. */
  attempts: number
  /** Whether memory must be up: FalkorDB and Valkey are bound and the memory process must report both reachable. */
  memory: boolean
  /** A value unique to this call: a changed variable makes the engine run the exec again instead of reusing a result. */
  run: string
}

/** The probe program and the settings every role of it reads. */
function withProbeProgram(container: Container, options: ProbeOptions): Container {
  return container
    .withNewFile(PROBE_PATH, PROBE_PROGRAM)
    .withEnvVariable("PROBE_HEALTHCHECK", HEALTHCHECK_COMMAND.join(" "))
    .withEnvVariable("PROBE_ATTEMPTS", String(options.attempts))
    .withEnvVariable("PROBE_INTERVAL_MS", String(PROBE_INTERVAL_SECONDS * 1000))
    .withEnvVariable("PROBE_CONFIG_FILE", COPIED_PATHS.config.destination)
    .withEnvVariable("PROBE_LOG_DIRECTORY", SERVER_LOG_DIRECTORY)
    .withEnvVariable("PROBE_MEMORY", options.memory ? "1" : "0")
    .withEnvVariable("PROBE_RUN", options.run)
}

/**
 * `healthcheck` on a platform the engine does not run natively: the server container runs the probe program, which
 * starts the image's entrypoint itself and checks it from inside. The engine emulates an exec (core/container_exec.go,
 * getEmulator) but starts a service without the emulator (core/service.go, startContainer; dagger/dagger#8060), so a
 * foreign-platform server cannot be a service.
 */
export function healthcheckProbe(server: Container, options: ProbeOptions): Container {
  return withProbeProgram(server, options)
    .withEnvVariable("HEALTHCHECK_URL", `http://127.0.0.1:${SERVER_PORT}/config`)
    .withExec(["node", PROBE_PATH, ...ENTRYPOINT], { expect: ReturnType.Any })
}

export interface ServiceProbe {
  /** The probe exec: its exit code and output are the healthcheck's result. */
  probe: Container
  /** A container that explains a server service that exited (the engine then stops the probe with its own text). */
  diagnosis: (engineError: string) => Container
}

/**
 * `healthcheck` as the design asks: the server runs as a service and a second container reaches it by hostname, so a
 * server that answered only on its own loopback would fail. The service has no readiness gate: its Docker health check
 * is removed and its port skips the engine's port check, so it counts as ready at once (core/service.go,
 * startContainer; core/healthcheck.go, portHealthChecker.Check returns when every port is skipped), and the probe,
 * which starts only then (a bound service starts before the exec that needs it), does the retries and says which part
 * failed. The server's side of the probe program relays into a cache volume made for this call what only the
 * server's container can see: its output, the OpenCode log and the memory process's /health, which listens on that
 * container's loopback only. If the server exits, the engine stops the probe (core/container_exec.go,
 * monitorServiceBindings) and `diagnosis` reads the volume to say so with the server's last lines.
 */
export function serviceHealthcheck(server: Container, client: Container, options: ProbeOptions): ServiceProbe {
  const shared = dag.cacheVolume(`opencode-healthcheck-${options.run}`)
  const role = (container: Container, name: string) =>
    withProbeProgram(container, options)
      .withMountedCache(SHARED_DIRECTORY, shared)
      .withEnvVariable("PROBE_SHARED_DIR", SHARED_DIRECTORY)
      .withEnvVariable("PROBE_ROLE", name)
  const service = role(server, "server")
    .withoutDockerHealthcheck()
    .withExposedPort(SERVER_PORT, { experimentalSkipHealthcheck: true })
    .asService({ args: ["node", PROBE_PATH, ...ENTRYPOINT] })
  const probe = role(client, "probe")
    .withServiceBinding(SERVER_HOSTNAME, service)
    .withEnvVariable("HEALTHCHECK_URL", `http://${SERVER_HOSTNAME}:${SERVER_PORT}/config`)
    .withExec(["node", PROBE_PATH], { expect: ReturnType.Any })
  const diagnosis = (engineError: string) =>
    role(client, "diagnose").withEnvVariable("PROBE_ENGINE_ERROR", engineError).withExec(["node", PROBE_PATH])
  return { probe, diagnosis }
}
