/**
 * The image's health check script, serve's readiness check (the password from a mounted file) and the probe program
 * `healthcheck` runs in the image, against the real opencode server: without a password, with one (HTTP Basic, user
 * OPENCODE_SERVER_USERNAME or "opencode"), against a server that exits, one that never answers, and without memory.
 */
import assert from "node:assert/strict"
import { spawnSync } from "node:child_process"
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { after, before, describe, it } from "node:test"
import { fileURLToPath } from "node:url"

import { readinessCommand } from "../../dagger/src/server-container.js"
import { unusedLoopbackPort } from "../support/loopback-port.js"
import { opencodeBinary } from "../support/opencode-binary.js"
import { RunningOpencode, startOpencode, waitForOk } from "../support/opencode-server.js"
import { probeHomeEnv, ProbeProgramFile, runProbe, writeProbeProgram } from "../support/probe-program-file.js"

const healthcheck = fileURLToPath(new URL("../../scripts/healthcheck", import.meta.url))
const PASSWORD = `pa"ss\\word ${Math.random().toString(36).slice(2)}`

function runHealthcheck(url: string, env: Record<string, string> = {}) {
  return spawnSync(healthcheck, [], {
    env: { PATH: process.env.PATH ?? "/usr/bin:/bin", HEALTHCHECK_URL: url, ...env },
    encoding: "utf8",
    timeout: 20_000,
  })
}

describe("the health check against the real opencode server", { timeout: 120_000 }, () => {
  describe("without a password", () => {
    let server: RunningOpencode
    before(async () => {
      server = await startOpencode(() => {})
      await waitForOk(`${server.url}/config`)
    })
    after(() => server.stop())

    it("passes, and prints nothing unless asked (Docker keeps health check output)", () => {
      const result = runHealthcheck(`${server.url}/config`)
      assert.equal(result.status, 0, result.stderr)
      assert.equal(result.stdout, "")
      const printed = runHealthcheck(`${server.url}/config`, { HEALTHCHECK_PRINT_BODY: "1" })
      assert.equal(typeof JSON.parse(printed.stdout), "object")
    })
  })

  describe("with OPENCODE_SERVER_PASSWORD set", () => {
    let server: RunningOpencode
    before(async () => {
      server = await startOpencode(() => {}, { OPENCODE_SERVER_PASSWORD: PASSWORD, OPENCODE_SERVER_USERNAME: "platform" })
      const basic = Buffer.from(`platform:${PASSWORD}`).toString("base64")
      await waitForOk(`${server.url}/config`, { headers: { authorization: `Basic ${basic}` } })
    })
    after(() => server.stop())

    it("the server refuses a request without credentials (the check below is not vacuous)", async () => {
      const response = await fetch(`${server.url}/config`, { signal: AbortSignal.timeout(5000) })
      assert.equal(response.status, 401)
    })

    it("passes with the same environment the server has, quoting hostile characters right", () => {
      const result = runHealthcheck(`${server.url}/config`, { OPENCODE_SERVER_PASSWORD: PASSWORD, OPENCODE_SERVER_USERNAME: "platform" })
      assert.equal(result.status, 0, result.stderr)
    })

    it("fails with a wrong password or user, and never prints the password", () => {
      for (const env of <Record<string, string>[]>[
        { OPENCODE_SERVER_PASSWORD: "wrong", OPENCODE_SERVER_USERNAME: "platform" },
        { OPENCODE_SERVER_PASSWORD: PASSWORD },
      ]) {
        const result = runHealthcheck(`${server.url}/config`, env)
        assert.notEqual(result.status, 0)
        assert.match(result.stderr, /401/)
        assert.ok(!`${result.stdout}${result.stderr}`.includes(PASSWORD))
      }
    })
  })

  it("fails against a port where nothing listens", async () => {
    const result = runHealthcheck(`http://127.0.0.1:${await unusedLoopbackPort()}/config`)
    assert.notEqual(result.status, 0)
  })
})

describe("serve's readiness check: the password from the mounted file, none in the environment", { timeout: 120_000 }, () => {
  // The engine runs a service's Docker health check without the service's secret variables
  // (core/healthcheck.go, dockerHealthcheck.check -> metaSpec), so the environment here lacks OPENCODE_SERVER_PASSWORD.
  let server: RunningOpencode
  let dir: string
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), "readiness-"))
    server = await startOpencode(() => {}, { OPENCODE_SERVER_PASSWORD: PASSWORD })
    const basic = Buffer.from(`opencode:${PASSWORD}`).toString("base64")
    await waitForOk(`${server.url}/config`, { headers: { authorization: `Basic ${basic}` } })
  })
  after(async () => {
    await server.stop()
    rmSync(dir, { recursive: true, force: true })
  })

  const runReadiness = (passwordFile: string) =>
    spawnSync("/bin/sh", ["-c", readinessCommand(healthcheck, passwordFile)], {
      env: { PATH: process.env.PATH ?? "/usr/bin:/bin", HEALTHCHECK_URL: `${server.url}/config` },
      encoding: "utf8",
      timeout: 20_000,
    })

  it("fails without the file: the image's own check, run as the engine runs it, gets 401", () => {
    const result = runReadiness(join(dir, "absent"))
    assert.notEqual(result.status, 0)
    assert.match(result.stderr, /401/)
  })

  it("passes with the password in the file", () => {
    const file = join(dir, "password")
    writeFileSync(file, PASSWORD)
    const result = runReadiness(file)
    assert.equal(result.status, 0, result.stderr)
    assert.ok(!`${result.stdout}${result.stderr}`.includes(PASSWORD))
  })

  it("fails with a wrong password in the file", () => {
    const file = join(dir, "wrong")
    writeFileSync(file, `${PASSWORD}-wrong`)
    assert.notEqual(runReadiness(file).status, 0)
  })
})

describe("the probe program `healthcheck` runs in the image, against the real opencode binary", { timeout: 180_000 }, () => {
  let probe: ProbeProgramFile
  let home: string
  before(() => {
    probe = writeProbeProgram()
    home = mkdtempSync(join(tmpdir(), "probe-home-"))
  })
  after(() => {
    probe.remove()
    rmSync(home, { recursive: true, force: true })
  })

  const serverEnv = () => ({ ...probeHomeEnv(home, healthcheck), PROBE_SERVER_OUTPUT: join(home, "server.out") })

  it("starts the server from its arguments, passes with Basic auth, prints the report, and stops the server", async () => {
    const port = await unusedLoopbackPort()
    const url = `http://127.0.0.1:${port}/config`
    const result = runProbe(
      probe,
      { ...serverEnv(), HEALTHCHECK_URL: url, PROBE_ATTEMPTS: "60", OPENCODE_SERVER_PASSWORD: PASSWORD, PROBE_MEMORY: "0" },
      [opencodeBinary(), "serve", "--hostname", "127.0.0.1", "--port", String(port)],
    )
    assert.equal(result.status, 0, result.stderr)
    const report = JSON.parse(result.stdout)
    assert.equal(typeof report.config, "object")
    assert.equal(report.memory, null)
    assert.ok(!`${result.stdout}${result.stderr}`.includes(PASSWORD))
    await new Promise((resolve) => setTimeout(resolve, 1000))
    await assert.rejects(fetch(url, { signal: AbortSignal.timeout(2000) }), "the server must be stopped")
  })

  it("a server that exits says so, as an opencode failure, with its last output and no password", () => {
    const result = runProbe(
        probe,
        { ...serverEnv(), HEALTHCHECK_URL: "http://127.0.0.1:9/config", PROBE_ATTEMPTS: "40", OPENCODE_SERVER_PASSWORD: PASSWORD },
        ["/bin/sh", "-c", `echo "starting with $OPENCODE_SERVER_PASSWORD"; echo "could not bind" >&2; exit 3`],
      )
      assert.equal(result.status, 1)
      assert.match(result.stderr, /^opencode: the server exited with code 3 before GET http:\/\/127\.0\.0\.1:9\/config answered 200/)
      assert.match(result.stderr, /could not bind/)
      assert.match(result.stderr, /starting with \[redacted\]/)
      assert.ok(!result.stderr.includes(PASSWORD))
  })

  it("a server command that cannot start says so at once", () => {
    const result = runProbe(probe, { ...serverEnv(), HEALTHCHECK_URL: "http://127.0.0.1:9/config", PROBE_ATTEMPTS: "30" }, ["/nonexistent/opencode", "serve"])
    assert.equal(result.status, 1)
    assert.match(result.stderr, /^opencode: could not start \/nonexistent\/opencode: spawn \/nonexistent\/opencode ENOENT/)
  })

  it("a server that never answers fails after the attempts, naming the URL and the last error", async () => {
    const url = `http://127.0.0.1:${await unusedLoopbackPort()}/config`
    const result = runProbe(probe, { ...serverEnv(), HEALTHCHECK_URL: url, PROBE_ATTEMPTS: "2" })
    assert.equal(result.status, 1)
    assert.match(result.stderr, new RegExp(`^opencode: GET ${url.replace(/[.]/g, "\\.")} gave no 200 after 2 attempts; last error: curl`))
  })

  it("with memory required and no memory process, fails as a memory failure after OpenCode passed", async () => {
    const server = await startOpencode(() => {})
    try {
      await waitForOk(`${server.url}/config`)
      const result = runProbe(probe, {
        ...serverEnv(),
        HEALTHCHECK_URL: `${server.url}/config`,
        PROBE_ATTEMPTS: "2",
        PROBE_MEMORY: "1",
        MEMORY_PORT: String(await unusedLoopbackPort()),
      })
      assert.equal(result.status, 1)
      assert.match(result.stderr, /^memory: the memory process never answered GET http:\/\/127\.0\.0\.1:\d+\/health in 2 attempts: no answer \(ECONNREFUSED\)/)
    } finally {
      await server.stop()
    }
  })
})
