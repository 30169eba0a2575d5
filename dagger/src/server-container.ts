/**
 * The built image made ready to run: credentials, the memory stack, and, for `serve`, a readiness check the engine can
 * actually run. The published image is not touched: its HEALTHCHECK stays as the spec renders it.
 */
import { Container, Secret, Service } from "@dagger.io/dagger"

import { HEALTHCHECK_COMMAND, imageSpec, Step } from "./image-spec.js"
import { MemoryServices, withMemoryStack } from "./memory-stack.js"

/** Where `serve` mounts the password for its readiness check (a tmpfs secret mount, never a layer). */
export const PASSWORD_FILE = "/run/secrets/opencode-server-password"

/**
 * Time between readiness tries. Docker 25+ knows HEALTHCHECK --start-interval, but Podman 4.3 (Buildah 1.28) rejects
 * it ("flag provided but not defined: -start-interval", tried here), so it is set only on the Dagger side.
 */
export const READINESS_START_INTERVAL = "1s"

export interface ServerOptions {
  username: string
  password?: Secret
  /** Serve without a password on purpose: sets the image's opt-out, OPENCODE_SERVER_ALLOW_NO_PASSWORD=1. */
  allowNoPassword?: boolean
  /** FalkorDB and Valkey to bind; undefined leaves memory out (the memory process then fails open). */
  memory?: MemoryServices
}

/**
 * The image with OPENCODE_SERVER_USERNAME/PASSWORD and, unless left out, FalkorDB and Valkey bound by hostname.
 * Under Dagger the engine's own init is PID 1 in every exec and service (cmd/init/main.go), not the image's tini, which
 * then warns "not PID 1" into the output a failed healthcheck quotes; as a child subreaper (TINI_SUBREAPER) it still
 * reaps every orphan and says nothing. Podman and Kubernetes run tini as PID 1 and are unchanged.
 */
export function serverContainer(image: Container, options: ServerOptions): Container {
  let server = image.withEnvVariable("OPENCODE_SERVER_USERNAME", options.username).withEnvVariable("TINI_SUBREAPER", "1")
  if (options.password) server = server.withSecretVariable("OPENCODE_SERVER_PASSWORD", options.password)
  else if (options.allowNoPassword) server = server.withEnvVariable("OPENCODE_SERVER_ALLOW_NO_PASSWORD", "1")
  if (options.memory) server = withMemoryStack(server, options.memory)
  return server
}

/**
 * The readiness command: the image's own health check, with the password read from the mounted file. The engine runs
 * a service's Docker health check with the container's plain environment, without its secret variables
 * (core/healthcheck.go, dockerHealthcheck.check → metaSpec; the secrets are added only to the main process in
 * core/service.go, startContainer → secretEnvValues), but inside the running container (a runc exec:
 * engine/engineutil/executor.go, Exec), so a mounted file is there.
 * The `x` keeps a trailing newline of the secret, which `$(...)` would strip.
 */
export function readinessCommand(healthcheck = HEALTHCHECK_COMMAND.join(" "), passwordFile = PASSWORD_FILE): string {
  return (
    `if [ -r ${passwordFile} ]; then ` +
    `OPENCODE_SERVER_PASSWORD="$(cat ${passwordFile}; printf x)"; ` +
    `OPENCODE_SERVER_PASSWORD="\${OPENCODE_SERVER_PASSWORD%x}"; ` +
    `export OPENCODE_SERVER_PASSWORD; fi; ` +
    `exec ${healthcheck}`
  )
}

function imageHealthcheck(): Extract<Step, { kind: "healthcheck" }> {
  const step = imageSpec.steps.find((candidate) => candidate.kind === "healthcheck")
  if (!step || step.kind !== "healthcheck") throw new Error("the image spec has no health check")
  return step
}

/**
 * The server as `serve` starts it. Its readiness gate is the Docker health check (core/service.go, startContainer:
 * `ctr.Config.Healthcheck != nil` selects newDockerHealthcheck), so the image's check is replaced by one that reads the
 * password from a mounted secret file, and retried every READINESS_START_INTERVAL instead of every 30 s
 * (core/healthcheck.go, durationBetweenRetries: the start interval if set, else the interval).
 */
export function serveService(server: Container, password?: Secret, startPeriod?: string): Service {
  const check = imageHealthcheck()
  const withPassword = password ? server.withMountedSecret(PASSWORD_FILE, password) : server
  return withPassword
    .withDockerHealthcheck(["/bin/sh", "-c", readinessCommand()], {
      interval: check.interval,
      timeout: check.timeout,
      startPeriod: startPeriod ?? check.startPeriod,
      startInterval: READINESS_START_INTERVAL,
      retries: check.retries,
    })
    .asService({ useEntrypoint: true })
}
