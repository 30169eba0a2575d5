/**
 * What `healthcheck`, `serve` and the checks hand the engine, built without an engine call so tests can read the query
 * the SDK records. index.ts checks the arguments and builds the image first.
 */
import { Container, dag, File, Secret, Service } from "@dagger.io/dagger"
import { randomBytes } from "node:crypto"

import { acceptanceChecks, acceptanceScript } from "./acceptance-checks.js"
import { healthcheckProbe, SERVER_HOSTNAME, serviceHealthcheck } from "./health-probe.js"
import { DEFAULT_BASE_IMAGE, imageSpec } from "./image-spec.js"
import { memoryServices } from "./memory-stack.js"
import { renderContainerfile } from "./render-containerfile.js"
import { serverContainer, serveService } from "./server-container.js"

export const CONTAINERFILE_PATH = "containers/opencode-server/Containerfile"

/** The arguments of healthcheck() and serve(), once checked. */
export interface RunOptions {
  username: string
  password?: Secret
  /** No password on purpose (serve --allow-no-password): the image's opt-out, OPENCODE_SERVER_ALLOW_NO_PASSWORD=1. */
  allowNoPassword?: boolean
  /** serve's readiness start period, e.g. "120s"; undefined: the image's HEALTHCHECK start period. */
  startPeriod?: string
  falkordbImage: string
  valkeyImage: string
  withoutMemory: boolean
}

function memoryFor(options: RunOptions) {
  return options.withoutMemory ? undefined : memoryServices(options)
}

/**
 * A password made for one call, as a Dagger secret (its value is in no query, layer or output): the image refuses a
 * public bind without a password (scripts/check-secrets), so a healthcheck without --password proves it with this one.
 */
export function generatedPassword(): Secret {
  return dag.setSecret(`opencode-healthcheck-password-${randomBytes(8).toString("hex")}`, randomBytes(24).toString("base64url"))
}

/** What healthcheck() runs: the probe, and for the service form the container that explains a server that exited. */
export interface HealthcheckRun {
  probe: Container
  diagnosis?: (engineError: string) => Container
}

/**
 * healthcheck()'s containers. On the engine's platform the server is a service probed from a second container by
 * hostname (serviceHealthcheck); `inExec` (a platform the engine only emulates) runs the server inside the probe's exec.
 */
export function healthcheckRun(image: Container, options: RunOptions & { attempts: number; inExec?: boolean }): HealthcheckRun {
  const memory = memoryFor(options)
  const password = options.password ?? generatedPassword()
  const server = serverContainer(image, { username: options.username, password, memory })
  const run = `${Date.now()}-${Math.random().toString(36).slice(2)}`
  const probeOptions = { attempts: options.attempts, memory: memory !== undefined, run }
  if (options.inExec) return { probe: healthcheckProbe(server, probeOptions) }
  const client = serverContainer(image, { username: options.username, password })
  return serviceHealthcheck(server, client, probeOptions)
}

/** The probe container of healthcheckRun, for tests of its query. */
export function healthcheckContainer(image: Container, options: RunOptions & { attempts: number; inExec?: boolean }): Container {
  return healthcheckRun(image, options).probe
}

/** The part of the memory stack each bound alias is, for the message. */
const MEMORY_SERVICE_NAMES: Record<string, string> = { falkordb: "FalkorDB", valkey: "Valkey" }

/**
 * What the engine says when a bound service exits while the exec that needs it runs: it cancels the exec with
 * "bound service <host> ([<aliases>]) exited[: <why>]" (core/container_exec.go, monitorServiceBindings →
 * serviceBindingExitError), which `expect: ANY` does not turn into an exit code.
 */
const BOUND_SERVICE_EXITED = /bound service \S+ \(\[?([^\])]*?)\]?\) exited(?::\s*([^\n]*))?/

/**
 * healthcheck()'s result: the probe's report, or its own message naming the failed part. The probe says `opencode: …`
 * or `memory: …` on stderr with a non-zero exit. When a service the probe needs exits, the engine stops the probe and
 * the awaited call throws the engine's text instead: FalkorDB or Valkey becomes `memory: …`, the server's own service
 * the diagnosis container's `opencode: …` with the server's exit code and last lines. Any other engine error is
 * passed on unchanged.
 */
export async function healthcheckReport({ probe, diagnosis }: HealthcheckRun): Promise<string> {
  let exitCode: number
  try {
    exitCode = await probe.exitCode()
  } catch (error) {
    const text = error instanceof Error ? error.message : String(error)
    const aliases = [...text.matchAll(new RegExp(BOUND_SERVICE_EXITED, "g"))].map((match) => ({ alias: match[1].trim(), why: match[2] }))
    const memoryService = aliases.find((exited) => exited.alias in MEMORY_SERVICE_NAMES)
    if (memoryService) {
      const name = MEMORY_SERVICE_NAMES[memoryService.alias]
      const why = memoryService.why ? ` (${memoryService.why.trim()})` : ""
      throw new Error(
        `healthcheck failed: memory: the ${name} service (${memoryService.alias}) exited while the probe ran${why}, so ` +
          `the engine stopped the probe; the memory process cannot work without it`,
      )
    }
    if (diagnosis && aliases.some((exited) => exited.alias === SERVER_HOSTNAME)) {
      throw new Error(`healthcheck failed: ${(await diagnosis(text.split("\n")[0]).stdout()).trim()}`)
    }
    throw error
  }
  if (exitCode !== 0) throw new Error(`healthcheck failed: ${(await probe.stderr()).trim()}`)
  return await probe.stdout()
}

/** The service serve() returns: the server container with a readiness check the engine can run. */
export function serverService(image: Container, options: RunOptions): Service {
  const server = serverContainer(image, {
    username: options.username,
    password: options.password,
    allowNoPassword: options.allowNoPassword,
    memory: memoryFor(options),
  })
  return serveService(server, options.password, options.startPeriod)
}

/**
 * The acceptance script run in the image with the default expectation (success), so a failing criterion fails the exec.
 * A check that returns a Container passes when the engine can sync it (core/modtree.go, runCheckLocally selects `sync`).
 */
export function acceptanceContainer(image: Container): Container {
  return image
    .withNewFile("/tmp/acceptance-checks.sh", acceptanceScript(acceptanceChecks()))
    .withExec(["/bin/sh", "/tmp/acceptance-checks.sh"])
}

/**
 * `diff -u` of the committed Containerfile and the spec's rendering: exit 1, with the difference shown, when they drift.
 * It runs on the engine's own platform: comparing two texts does not depend on the image's platform.
 */
export function containerfileDiff(committed: File): Container {
  return dag
    .container()
    .from(DEFAULT_BASE_IMAGE)
    .withFile("/check/committed", committed)
    .withNewFile("/check/rendered", renderContainerfile(imageSpec))
    .withExec([
      "diff",
      "-u",
      "--label",
      CONTAINERFILE_PATH,
      "--label",
      "rendered from dagger/src/image-spec.ts (npm run containerfile)",
      "/check/committed",
      "/check/rendered",
    ])
}
