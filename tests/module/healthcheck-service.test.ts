/**
 * The probe program split as `healthcheck` runs it under Dagger (issue 21, item 3): the server role in one process (the
 * server's service), the probe role in another (the second container), sharing only a folder (the call's cache
 * volume), against the real opencode binary. The probe reaches the server by its address, not from inside it; the
 * memory health and the server's last lines come through the folder; a server that exits is explained by the diagnose
 * role, as after the engine stopped the probe.
 */
import assert from "node:assert/strict"
import { ChildProcess, spawn } from "node:child_process"
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { after, before, describe, it } from "node:test"
import { fileURLToPath } from "node:url"

import { unusedLoopbackPort } from "../support/loopback-port.js"
import { opencodeBinary } from "../support/opencode-binary.js"
import { probeHomeEnv, ProbeProgramFile, runProbe, writeProbeProgram } from "../support/probe-program-file.js"

const healthcheck = fileURLToPath(new URL("../../scripts/healthcheck", import.meta.url))
const PASSWORD = `service-probe-${Math.random().toString(36).slice(2)}`

describe("healthcheck's server and probe roles, apart, against the real opencode binary", { timeout: 240_000 }, () => {
  let probe: ProbeProgramFile
  let home: string
  const servers: ChildProcess[] = []
  before(() => {
    probe = writeProbeProgram()
    home = mkdtempSync(join(tmpdir(), "probe-roles-"))
  })
  after(() => {
    for (const server of servers) if (server.exitCode === null) server.kill("SIGTERM")
    probe.remove()
    rmSync(home, { recursive: true, force: true })
  })

  const environment = (shared: string, role: string) => ({
    PATH: process.env.PATH ?? "/usr/bin:/bin",
    ...probeHomeEnv(home, healthcheck),
    PROBE_SHARED_DIR: shared,
    PROBE_ROLE: role,
    OPENCODE_SERVER_PASSWORD: PASSWORD,
  })

  /** The server role as the service runs it: the command line after the program, in the background. */
  function startServerRole(shared: string, command: string[], extra: Record<string, string> = {}): ChildProcess {
    const server = spawn(process.execPath, [probe.path, ...command], { env: { ...environment(shared, "server"), ...extra }, stdio: "ignore" })
    servers.push(server)
    return server
  }

  it("the probe passes by the server's address, with memory's health relayed through the folder", async () => {
    const shared = mkdtempSync(join(home, "shared-"))
    const port = await unusedLoopbackPort()
    const memoryPort = String(await unusedLoopbackPort())
    const server = startServerRole(shared, [opencodeBinary(), "serve", "--hostname", "127.0.0.1", "--port", String(port)], { MEMORY_PORT: memoryPort })
    const result = runProbe(probe, { ...environment(shared, "probe"), HEALTHCHECK_URL: `http://127.0.0.1:${port}/config`, PROBE_ATTEMPTS: "60", PROBE_MEMORY: "0" })
    assert.equal(result.status, 0, result.stderr)
    assert.equal(typeof JSON.parse(result.stdout).config, "object")
    // The relay wrote what only the server's side can read: here, that no memory process answers on its loopback.
    const relayed = JSON.parse(readFileSync(join(shared, "memory-health.json"), "utf8"))
    assert.match(relayed.problem, /^no answer \(ECONNREFUSED\)/)
    assert.ok(server.exitCode === null, "the probe does not stop a server it did not start")
    server.kill("SIGTERM")
    await new Promise((done) => server.once("exit", done))
    assert.ok(existsSync(join(shared, "server.exit")), "the server role records the server's exit")
  })

  it("memory required: the probe fails as memory, with what the server's side read", async () => {
    const shared = mkdtempSync(join(home, "shared-"))
    const port = await unusedLoopbackPort()
    const memoryPort = String(await unusedLoopbackPort())
    startServerRole(shared, [opencodeBinary(), "serve", "--hostname", "127.0.0.1", "--port", String(port)], { MEMORY_PORT: memoryPort })
    const result = runProbe(probe, { ...environment(shared, "probe"), HEALTHCHECK_URL: `http://127.0.0.1:${port}/config`, PROBE_ATTEMPTS: "40", PROBE_MEMORY: "1", MEMORY_PORT: memoryPort })
    assert.equal(result.status, 1)
    assert.match(result.stderr, new RegExp(`^memory: the memory process never answered GET http://127\\.0\\.0\\.1:${memoryPort}/health in 40 attempts: no answer \\(ECONNREFUSED\\)`))
  })

  it("a server that exits: the probe says opencode, and the diagnose role explains it with its last lines, no password", async () => {
    const shared = mkdtempSync(join(home, "shared-"))
    const server = startServerRole(shared, ["/bin/sh", "-c", `echo "starting with $OPENCODE_SERVER_PASSWORD"; echo "could not bind" >&2; exit 3`])
    await new Promise((done) => server.once("exit", done))
    assert.equal(server.exitCode, 3, "the server role exits with the server's code, so the engine sees the service exit")
    const probed = runProbe(probe, { ...environment(shared, "probe"), HEALTHCHECK_URL: "http://127.0.0.1:9/config", PROBE_ATTEMPTS: "5" })
    assert.equal(probed.status, 1)
    assert.match(probed.stderr, /^opencode: the server exited with code 3 before GET http:\/\/127\.0\.0\.1:9\/config answered 200/)
    const diagnosed = runProbe(probe, { ...environment(shared, "diagnose"), PROBE_ENGINE_ERROR: "bound service x ([opencode]) exited" })
    assert.equal(diagnosed.status, 0, diagnosed.stderr)
    assert.match(diagnosed.stdout, /^opencode: the server exited with code 3 while the probe ran\n/)
    assert.match(diagnosed.stdout, /could not bind/)
    assert.match(diagnosed.stdout, /starting with \[redacted\]/)
    assert.ok(!`${probed.stderr}${diagnosed.stdout}`.includes(PASSWORD))
  })
})
