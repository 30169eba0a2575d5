/**
 * What the module sends to the engine, read from the query the Dagger SDK records (it builds it without an engine),
 * checked against the engine's rules as its source states them (dagger/dagger, tag v0.21.8). Each test names the
 * engine file and function it encodes.
 */
import assert from "node:assert/strict"
import { readFileSync } from "node:fs"
import { describe, it } from "node:test"

import { Container, dag } from "@dagger.io/dagger"

import { applyToContainer } from "../../dagger/src/apply-to-container.js"
import { PROBE_INTERVAL_SECONDS, SERVER_HOSTNAME, SHARED_DIRECTORY } from "../../dagger/src/health-probe.js"
import { COPIED_PATHS, ENTRYPOINT, imageSpec, SERVER_PORT } from "../../dagger/src/image-spec.js"
import {
  DEFAULT_FALKORDB_IMAGE,
  DEFAULT_VALKEY_IMAGE,
  FALKORDB_PORT,
  VALKEY_PORT,
} from "../../dagger/src/memory-stack.js"
import { PROBE_PATH } from "../../dagger/src/probe-program.js"
import { renderContainerfile } from "../../dagger/src/render-containerfile.js"
import { PASSWORD_FILE, READINESS_START_INTERVAL, readinessCommand } from "../../dagger/src/server-container.js"
import {
  acceptanceContainer,
  CONTAINERFILE_PATH,
  containerfileDiff,
  healthcheckContainer,
  healthcheckReport,
  RunOptions,
  serverService,
} from "../../dagger/src/server-runs.js"

type Query = { operation: string; args?: Record<string, any> }

function queryTree(value: unknown): Query[] {
  return (value as { _ctx: { _queryTree: Query[] } })._ctx._queryTree
}

function operations(value: unknown, name: string): Query[] {
  return queryTree(value).filter((query) => query.operation === name)
}

/** The image under test, standing in for build(): only its query matters here. */
const image = () => dag.container().from("opencode-server:under-test")
const password = () => dag.setSecret("opencode-server-password", "not-a-real-password")

const defaults: RunOptions = {
  username: "opencode",
  falkordbImage: DEFAULT_FALKORDB_IMAGE,
  valkeyImage: DEFAULT_VALKEY_IMAGE,
  withoutMemory: false,
}

/** The value of the last withEnvVariable of `name` in a query. */
function envValue(value: unknown, name: string): string | undefined {
  return operations(value, "withEnvVariable").filter((query) => query.args?.name === name).at(-1)?.args?.value
}

/** The services a container binds, by alias. */
function bindings(value: unknown): Record<string, Query[]> {
  return Object.fromEntries(
    operations(value, "withServiceBinding").map((query) => [query.args?.alias, queryTree(query.args?.service)]),
  )
}

describe("serve: a password-protected server becomes ready (issue 8, defects 1 and 2)", () => {
  // core/service.go, startContainer: with `ctr.Config.Healthcheck != nil` the Docker health check is the readiness
  // gate; core/healthcheck.go, dockerHealthcheck.check runs it through metaSpec, without the secret variables that
  // startContainer adds (secretEnvValues) to the main process only. So the check must find the password in a file.
  it("replaces the image's health check with one that reads the password from a mounted secret file", () => {
    const secret = password()
    const service = serverService(image(), { ...defaults, password: secret })
    const tree = queryTree(service)
    const mount = tree.findIndex((query) => query.operation === "withMountedSecret")
    const check = tree.findIndex((query) => query.operation === "withDockerHealthcheck")
    assert.ok(mount >= 0 && check > mount, "the secret is mounted, then the health check set")
    assert.equal(tree[mount].args?.path, PASSWORD_FILE)
    assert.equal(tree[mount].args?.source, secret)
    assert.deepEqual(tree[check].args?.args, ["/bin/sh", "-c", readinessCommand()])
    assert.match(readinessCommand(), new RegExp(`cat ${PASSWORD_FILE}`))
    const variable = operations(service, "withSecretVariable").find((query) => query.args?.name === "OPENCODE_SERVER_PASSWORD")
    assert.equal(variable?.args?.secret, secret, "OpenCode itself still gets the password as its variable")
    assert.deepEqual(tree.at(-1), { operation: "asService", args: { useEntrypoint: true } })
  })

  // core/healthcheck.go, durationBetweenRetries: the start interval if set, else the interval (30 s in the image).
  it("retries readiness every start interval, not every 30 s interval, and keeps the image's other timings", () => {
    const [check] = operations(serverService(image(), defaults), "withDockerHealthcheck")
    const spec = imageSpec.steps.find((step) => step.kind === "healthcheck")
    assert.ok(spec && spec.kind === "healthcheck")
    assert.equal(check.args?.startInterval, READINESS_START_INTERVAL)
    assert.ok(parseInt(READINESS_START_INTERVAL, 10) <= 2, "a short start interval")
    assert.deepEqual(
      { interval: check.args?.interval, timeout: check.args?.timeout, startPeriod: check.args?.startPeriod, retries: check.args?.retries },
      { interval: spec.interval, timeout: spec.timeout, startPeriod: spec.startPeriod, retries: spec.retries },
    )
  })

  it("without a password no secret is mounted, and the same check runs (it then sends no credentials)", () => {
    const service = serverService(image(), defaults)
    assert.equal(operations(service, "withMountedSecret").length, 0)
    assert.equal(operations(service, "withSecretVariable").length, 0)
    assert.equal(operations(service, "withDockerHealthcheck").length, 1)
  })

  it("serve --allow-no-password sets the image's opt-out, and nothing else sets it (issue 17)", () => {
    const open = serverService(image(), { ...defaults, allowNoPassword: true })
    assert.equal(envValue(open, "OPENCODE_SERVER_ALLOW_NO_PASSWORD"), "1")
    assert.equal(envValue(serverService(image(), { ...defaults, password: password() }), "OPENCODE_SERVER_ALLOW_NO_PASSWORD"), undefined)
    assert.equal(envValue(serverService(image(), defaults), "OPENCODE_SERVER_ALLOW_NO_PASSWORD"), undefined)
  })

  it("the published image keeps its HEALTHCHECK: the Containerfile has no --start-interval (Podman 4.3 rejects it)", () => {
    const containerfile = readFileSync(new URL(`../../${CONTAINERFILE_PATH}`, import.meta.url), "utf8")
    assert.match(containerfile, /^HEALTHCHECK /m)
    assert.doesNotMatch(containerfile, /start-interval/)
  })
})

/** The service a probe reaches by hostname, as its query. */
function serviceOf(probe: Container, alias = SERVER_HOSTNAME): Query[] {
  const tree = bindings(probe)[alias]
  assert.ok(tree, `the probe binds ${alias}`)
  return tree
}

/** The value of the last withEnvVariable of `name` in a query tree. */
function treeEnv(tree: Query[], name: string): string | undefined {
  return tree.filter((query) => query.operation === "withEnvVariable" && query.args?.name === name).at(-1)?.args?.value
}

/** The services a query tree binds, by alias. */
function treeBindings(tree: Query[]): Record<string, Query[]> {
  return Object.fromEntries(
    tree.filter((query) => query.operation === "withServiceBinding").map((query) => [query.args?.alias, queryTree(query.args?.service)]),
  )
}

describe("healthcheck runs the server as a service and probes it from a second container (issue 21, item 3)", () => {
  // core/service.go, startContainer: without a Docker health check the port check decides readiness, and
  // core/healthcheck.go, portHealthChecker.Check returns at once when every exposed port is skipped: the service is
  // ready when started, so the probe (which starts after it) does the retries and says which part failed.
  it("the server is a service with no readiness gate, running the probe program's server role around the entrypoint", () => {
    const service = serviceOf(healthcheckContainer(image(), { ...defaults, attempts: 7 }))
    assert.ok(service.some((query) => query.operation === "withoutDockerHealthcheck"))
    const ports = service.filter((query) => query.operation === "withExposedPort")
    assert.equal(ports.at(-1)?.args?.port, SERVER_PORT)
    assert.equal(ports.at(-1)?.args?.experimentalSkipHealthcheck, true, "the port skips the engine's port check")
    const started = service.at(-1)
    assert.equal(started?.operation, "asService")
    assert.deepEqual(started?.args?.args, ["node", PROBE_PATH, ...ENTRYPOINT])
    assert.notEqual(started?.args?.useEntrypoint, true, "the probe program starts the entrypoint itself")
    assert.equal(treeEnv(service, "PROBE_ROLE"), "server")
    assert.deepEqual(Object.keys(treeBindings(service)).sort(), ["falkordb", "valkey"], "the memory stack is bound to the server")
  })

  it("the probe reaches it by hostname, not loopback, and both mount one cache volume made for the call", () => {
    const probe = healthcheckContainer(image(), { ...defaults, attempts: 7 })
    const [exec] = operations(probe, "withExec")
    assert.deepEqual(exec.args?.args, ["node", PROBE_PATH])
    assert.equal(exec.args?.expect, "ANY", "the module reads the exit code and reports the probe's own message")
    assert.equal(envValue(probe, "HEALTHCHECK_URL"), `http://${SERVER_HOSTNAME}:${SERVER_PORT}/config`)
    assert.equal(envValue(probe, "PROBE_ROLE"), "probe")
    const volumeOf = (tree: Query[]) => {
      const mount = tree.find((query) => query.operation === "withMountedCache" && query.args?.path === SHARED_DIRECTORY)
      assert.ok(mount, "mounts the shared folder")
      return queryTree(mount.args?.cache)[0].args?.key
    }
    const key = volumeOf(queryTree(probe))
    assert.equal(volumeOf(serviceOf(probe)), key)
    assert.match(String(key), /^opencode-healthcheck-/)
    assert.notEqual(volumeOf(queryTree(healthcheckContainer(image(), { ...defaults, attempts: 7 }))), key, "a volume per call")
  })

  it("tries each check every two seconds, as often as --attempts says, with a fresh value per call (no cached result)", () => {
    const first = healthcheckContainer(image(), { ...defaults, attempts: 7 })
    const second = healthcheckContainer(image(), { ...defaults, attempts: 7 })
    assert.equal(envValue(first, "PROBE_ATTEMPTS"), "7")
    assert.equal(envValue(first, "PROBE_INTERVAL_MS"), String(PROBE_INTERVAL_SECONDS * 1000))
    assert.equal(PROBE_INTERVAL_SECONDS, 2)
    assert.notEqual(envValue(first, "PROBE_RUN"), envValue(second, "PROBE_RUN"))
    assert.equal(envValue(first, "PROBE_CONFIG_FILE"), COPIED_PATHS.config.destination, "redaction compares with the committed config")
  })

  // A withExec gets the container's secret variables (unlike a service's health check, core/healthcheck.go), so the
  // probe's health check script sees the password; the server's service gets the same secret.
  it("the server and the probe get the same password, as a secret variable, never as a plain one", () => {
    const secret = password()
    const probe = healthcheckContainer(image(), { ...defaults, password: secret, attempts: 3 })
    const secretOf = (tree: Query[]) =>
      tree.find((query) => query.operation === "withSecretVariable" && query.args?.name === "OPENCODE_SERVER_PASSWORD")?.args?.secret
    assert.equal(secretOf(queryTree(probe)), secret)
    assert.equal(secretOf(serviceOf(probe)), secret)
    assert.equal(envValue(probe, "OPENCODE_SERVER_PASSWORD"), undefined)
    assert.equal(envValue(probe, "OPENCODE_SERVER_USERNAME"), "opencode")
  })

  // core/container_exec.go, getEmulator: only execs are emulated, so on a platform the engine does not run natively the
  // server stays inside the probe's exec and checks itself from there.
  it("inExec (a platform the engine only emulates): the entrypoint starts inside the probe exec, no server service", () => {
    const probe = healthcheckContainer(image(), { ...defaults, attempts: 7, inExec: true })
    const [exec] = operations(probe, "withExec")
    assert.deepEqual(exec.args?.args, ["node", PROBE_PATH, ...ENTRYPOINT])
    assert.equal(operations(probe, "asService").length, 0)
    assert.deepEqual(Object.keys(bindings(probe)).sort(), ["falkordb", "valkey"], "only the memory stack is a service")
    assert.equal(envValue(probe, "HEALTHCHECK_URL"), `http://127.0.0.1:${SERVER_PORT}/config`)
  })
})

describe("serve and healthcheck start the memory stack (issue 8, defect 5)", () => {
  const cases: Array<[string, (options: RunOptions) => Container | unknown]> = [
    ["serve", (options) => serverService(image(), options)],
    ["healthcheck (in the probe exec)", (options) => healthcheckContainer(image(), { ...options, attempts: 3, inExec: true })],
  ]
  for (const [name, run] of cases) {
    it(`${name}: FalkorDB and Valkey are bound by hostname and the image's FALKORDB_*/VALKEY_* point at them`, () => {
      const result = run(defaults)
      const bound = bindings(result)
      assert.deepEqual(Object.keys(bound).sort(), ["falkordb", "valkey"])
      if (name.startsWith("healthcheck")) assert.equal(envValue(result, "PROBE_MEMORY"), "1", "the probe then requires memory's /health")
      assert.equal(envValue(result, "FALKORDB_HOST"), "falkordb")
      assert.equal(envValue(result, "FALKORDB_PORT"), String(FALKORDB_PORT))
      assert.equal(envValue(result, "VALKEY_HOST"), "valkey")
      assert.equal(envValue(result, "VALKEY_PORT"), String(VALKEY_PORT))
      const defaultsInImage = imageSpec.steps.find((step) => step.kind === "env")
      assert.ok(defaultsInImage && defaultsInImage.kind === "env")
      assert.equal(defaultsInImage.variables.VALKEY_PORT, String(VALKEY_PORT), "Valkey listens where the image expects it")
      assert.equal(defaultsInImage.variables.FALKORDB_PORT, String(FALKORDB_PORT))
    })

    it(`${name}: --without-memory binds nothing and leaves the image's memory settings alone`, () => {
      const result = run({ ...defaults, withoutMemory: true })
      assert.deepEqual(bindings(result), {})
      assert.equal(envValue(result, "FALKORDB_HOST"), undefined)
      if (name.startsWith("healthcheck")) assert.equal(envValue(result, "PROBE_MEMORY"), "0")
    })
  }

  // core/service.go, startContainer: without a Docker health check the engine waits for the exposed ports
  // (core/healthcheck.go, portHealthChecker.Check); `from` alone exposes none (core/container.go: only
  // WithExposedPort fills Ports), and an image's own HEALTHCHECK would take over, so it is removed.
  it("each service is pinned by tag and digest, overridable, and ready when its port accepts a connection", () => {
    const bound = bindings(serverService(image(), { ...defaults, falkordbImage: "falkordb/falkordb:edge", valkeyImage: "valkey/valkey:9" }))
    for (const [alias, address, port] of [["falkordb", "falkordb/falkordb:edge", FALKORDB_PORT], ["valkey", "valkey/valkey:9", VALKEY_PORT]] as const) {
      const tree = bound[alias]
      assert.equal(tree.find((query) => query.operation === "from")?.args?.address, address)
      assert.ok(tree.some((query) => query.operation === "withoutDockerHealthcheck"), `${alias} drops an image health check`)
      assert.deepEqual(tree.filter((query) => query.operation === "withExposedPort").map((query) => query.args?.port), [port])
      assert.equal(tree.at(-1)?.operation, "asService")
      assert.equal(tree.at(-1)?.args?.useEntrypoint, true)
    }
    assert.deepEqual(bound.valkey.at(-1)?.args?.args.slice(0, 3), ["valkey-server", "--port", String(VALKEY_PORT)])
    for (const reference of [DEFAULT_FALKORDB_IMAGE, DEFAULT_VALKEY_IMAGE]) {
      assert.match(reference, /^[a-z0-9./-]+:[\w.-]+@sha256:[0-9a-f]{64}$/, `${reference} is pinned by tag and digest`)
    }
  })
})

describe("the checks return the Container they ran (issue 8, defect 7)", () => {
  // core/modtree.go, runCheckLocally: a check's returned object is synced, so the exec's exit code decides the check
  // and its whole output is shown (as core/integration/testdata/checks/hello-with-checks-ts does).
  it("acceptance criteria: the script's exec expects success, so a FAIL line fails the check", () => {
    const [exec] = operations(acceptanceContainer(image()), "withExec")
    assert.deepEqual(exec.args?.args, ["/bin/sh", "/tmp/acceptance-checks.sh"])
    assert.equal(exec.args?.expect, undefined, "the default expectation: success")
  })

  it("containerfile is current: diff -u of the committed file and the spec's rendering", () => {
    const committed = dag.directory().file(CONTAINERFILE_PATH)
    const check = containerfileDiff(committed)
    assert.equal(operations(check, "withFile")[0].args?.source, committed)
    assert.equal(operations(check, "withNewFile")[0].args?.contents, renderContainerfile(imageSpec))
    const [exec] = operations(check, "withExec")
    assert.deepEqual([exec.args?.args[0], exec.args?.args[1]], ["diff", "-u"])
    assert.equal(exec.args?.expect, undefined)
  })
})

describe("the module's runtime is the SDK's digest-pinned default (issue 8, defect 6)", () => {
  // sdk/typescript/runtime/config.go, detectRuntime and detectBaseImageRef: `dagger.runtime: "node@20"` in package.json
  // selects the unpinned node:20-alpine; without it a package-lock.json selects node and the default
  // tsdistconsts.DefaultNodeImageRef (node:24.13.1-alpine@sha256:...). runtime_node.go, withInstalledDependencies:
  // when TypeScript is the only dependency, at tsdistconsts.DefaultTypeScriptVersion (5.9.3), no npm install runs.
  const modulePackage = JSON.parse(readFileSync(new URL("../../dagger/package.json", import.meta.url), "utf8"))

  it("dagger/package.json names no runtime or base image, and has a lockfile", () => {
    assert.equal(modulePackage.dagger, undefined)
    assert.ok(readFileSync(new URL("../../dagger/package-lock.json", import.meta.url), "utf8").length > 0)
  })

  it("TypeScript 5.9.3 is its only dependency, so a cold load runs no npm install (issue 21, item 4)", () => {
    // runtime_node.go, withInstalledDependencies: the install is skipped only for at most one dependency, TypeScript;
    // OpenCode's JSONC parser is vendored in dagger/src/jsonc/ for that reason.
    assert.deepEqual(modulePackage.dependencies, { typescript: "5.9.3" })
    assert.equal(modulePackage.devDependencies, undefined)
    const lock = JSON.parse(readFileSync(new URL("../../dagger/package-lock.json", import.meta.url), "utf8"))
    assert.deepEqual(Object.keys(lock.packages).filter((name) => name !== ""), ["node_modules/typescript"])
  })
})




describe("cache volumes are per platform (issue 21, item 7)", () => {
  // core/container.go, lockMountedCaches: a LOCKED cache volume is held by one exec at a time, by name, whatever the
  // platform, so amd64 and arm64 builds sharing names would take turns instead of running side by side.
  const values = { BASE_IMAGE: "node:20-slim", OPENCODE_VERSION: "1.18.33" }
  const cacheKeys = (platform?: string) =>
    operations(applyToContainer(imageSpec, dag.directory(), values, platform as never), "withMountedCache").map(
      (mount) => String(queryTree(mount.args!.cache)[0].args!.key),
    )

  it("the amd64 and arm64 builds, and the engine-platform build, lock no volume in common", () => {
    const amd64 = cacheKeys("linux/amd64")
    const arm64 = cacheKeys("linux/arm64")
    const enginePlatform = cacheKeys(undefined)
    assert.ok(amd64.length >= 4, `only ${amd64.length} cache mounts`)
    assert.deepEqual(amd64.filter((key) => arm64.includes(key) || enginePlatform.includes(key)), [])
    assert.ok(amd64.every((key) => key.endsWith("-linux-amd64")), amd64.join(", "))
    assert.ok(arm64.every((key) => key.endsWith("-linux-arm64")), arm64.join(", "))
  })
})

describe("healthcheck without --password proves the server with a password made for the call (issue 17)", () => {
  // The image refuses a public bind without a password (scripts/check-secrets), so the server must get one; a
  // Dagger secret (core/schema/secret.go, setSecret) keeps its value out of the query, the layers and the output.
  it("the server gets OPENCODE_SERVER_PASSWORD from a new setSecret on each call, never the opt-out", () => {
    const options = { ...defaults, attempts: 3 }
    const secretsOf = (container: Container) =>
      operations(container, "withSecretVariable").filter((query) => query.args?.name === "OPENCODE_SERVER_PASSWORD")
    const [first] = secretsOf(healthcheckContainer(image(), options))
    const [second] = secretsOf(healthcheckContainer(image(), options))
    assert.ok(first && second, "no password variable")
    const setSecret = (variable: Query) => queryTree(variable.args!.secret).find((query) => query.operation === "setSecret")!
    assert.notEqual(setSecret(first).args?.name, setSecret(second).args?.name, "the same secret twice")
    assert.ok(String(setSecret(first).args?.plaintext).length >= 32)
    assert.equal(envValue(healthcheckContainer(image(), options), "OPENCODE_SERVER_ALLOW_NO_PASSWORD"), undefined)
  })

  it("a given --password is used as it is", () => {
    const secret = password()
    const [variable] = operations(healthcheckContainer(image(), { ...defaults, attempts: 3, password: secret }), "withSecretVariable")
    assert.equal(variable.args?.secret, secret)
  })
})

describe("serve's readiness budget and tini under Dagger (issue 21, items 5 and 6)", () => {
  // core/healthcheck.go: failures count only after the start period, then `retries` tries a start interval apart; the
  // timeout field is not applied, so the start period is the one budget a slow engine needs raised.
  it("serve's start period is the one given, else the image's", () => {
    const [given] = operations(serverService(image(), { ...defaults, startPeriod: "120s" }), "withDockerHealthcheck")
    assert.equal(given.args?.startPeriod, "120s")
    const spec = imageSpec.steps.find((step) => step.kind === "healthcheck")
    assert.ok(spec && spec.kind === "healthcheck")
    const [fallback] = operations(serverService(image(), defaults), "withDockerHealthcheck")
    assert.equal(fallback.args?.startPeriod, spec.startPeriod)
  })

  // cmd/init/main.go: the engine's init is PID 1 in execs and services, so tini is not; as a child subreaper it still
  // reaps orphans and prints no "not PID 1" warning into the output a failed healthcheck quotes.
  it("the server runs with TINI_SUBREAPER=1 in healthcheck and serve", () => {
    assert.equal(envValue(serverService(image(), defaults), "TINI_SUBREAPER"), "1")
    assert.equal(envValue(healthcheckContainer(image(), { ...defaults, attempts: 3 }), "TINI_SUBREAPER"), "1")
  })
})

describe("healthcheck names a memory service that exits while the probe runs (issue 21, item 2)", () => {
  // core/container_exec.go, monitorServiceBindings: a bound service that exits cancels the dependent exec with
  // serviceBindingExitError, "bound service <host> ([<aliases>]) exited: <why>"; the awaited exitCode() throws it.
  const engineError = (aliases: string) =>
    new Error(`process "node /tmp/probe.js" did not complete successfully: bound service 3k2l1 (${aliases}) exited: exit code: 137`)
  const probeThat = (outcome: { throws?: Error; exitCode?: number; stdout?: string; stderr?: string }) =>
    ({
      exitCode: async () => {
        if (outcome.throws) throw outcome.throws
        return outcome.exitCode ?? 0
      },
      stdout: async () => outcome.stdout ?? "",
      stderr: async () => outcome.stderr ?? "",
    }) as unknown as Container

  const runOf = (outcome: Parameters<typeof probeThat>[0], diagnosis?: (engineError: string) => Container) => ({
    probe: probeThat(outcome),
    diagnosis,
  })

  it("the server's own service exiting: the diagnosis container's opencode: … with its last lines", async () => {
    const seen: string[] = []
    const diagnosis = (engineError: string) => {
      seen.push(engineError)
      return { stdout: async () => "opencode: the server exited with code 78 while the probe ran\nlast lines …\n" } as unknown as Container
    }
    await assert.rejects(healthcheckReport(runOf({ throws: engineError("[opencode]") }, diagnosis)), {
      message: "healthcheck failed: opencode: the server exited with code 78 while the probe ran\nlast lines …",
    })
    assert.match(seen[0], /bound service 3k2l1 \(\[opencode\]\) exited/)
  })

  for (const [alias, name] of [["falkordb", "FalkorDB"], ["valkey", "Valkey"]]) {
    it(`${name} exiting: memory: …, naming it, not the engine's text`, async () => {
      await assert.rejects(healthcheckReport(runOf({ throws: engineError(`[${alias}]`) })), (error: Error) => {
        assert.equal(
          error.message,
          `healthcheck failed: memory: the ${name} service (${alias}) exited while the probe ran (exit code: 137), so the ` +
            "engine stopped the probe; the memory process cannot work without it",
        )
        return true
      })
    })
  }

  it("any other engine error is passed on unchanged", async () => {
    const other = new Error("failed to resolve image: docker.io/falkordb/falkordb: not found")
    await assert.rejects(healthcheckReport(runOf({ throws: other })), (error: Error) => error === other)
  })

  it("the probe's own failure (non-zero exit) is its stderr, and success its report", async () => {
    await assert.rejects(healthcheckReport(runOf({ exitCode: 1, stderr: "opencode: the server exited (code 78)\n" })), {
      message: "healthcheck failed: opencode: the server exited (code 78)",
    })
    assert.equal(await healthcheckReport(runOf({ stdout: '{"status":"healthy"}' })), '{"status":"healthy"}')
  })
})
