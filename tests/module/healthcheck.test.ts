/**
 * The image's health check script and the probe that `dagger call healthcheck` runs, against the real opencode server:
 * without a password, with one (HTTP Basic, user OPENCODE_SERVER_USERNAME or "opencode"), and against a dead server.
 */
import assert from "node:assert/strict"
import { spawnSync } from "node:child_process"
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { after, before, describe, it } from "node:test"
import { fileURLToPath } from "node:url"

import { probeScript } from "../../dagger/src/health-probe.js"
import { unusedLoopbackPort } from "../support/loopback-port.js"
import { RunningOpencode, startOpencode, waitForOk } from "../support/opencode-server.js"

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

describe("the probe of `dagger call healthcheck`", { timeout: 60_000 }, () => {
  it("on failure says what failed and shows the server's last log lines", async () => {
    const logs = mkdtempSync(join(tmpdir(), "probe-logs-"))
    try {
      mkdirSync(logs, { recursive: true })
      writeFileSync(join(logs, "2026-01-01.log"), "line one\nERROR the server could not bind\n")
      const url = `http://127.0.0.1:${await unusedLoopbackPort()}/config`
      const result = spawnSync("/bin/sh", ["-c", probeScript(2, healthcheck, logs)], {
        env: { PATH: process.env.PATH ?? "/usr/bin:/bin", HEALTHCHECK_URL: url },
        encoding: "utf8",
        timeout: 30_000,
      })
      assert.equal(result.status, 1)
      assert.match(result.stderr, new RegExp(`GET ${url.replace(/[.]/g, "\\.")} gave no 200 after 2 attempts`))
      assert.match(result.stderr, /ERROR the server could not bind/)
    } finally {
      rmSync(logs, { recursive: true, force: true })
    }
  })

  it("on success prints the /config body", async () => {
    const server = await startOpencode(() => {})
    try {
      const result = spawnSync("/bin/sh", ["-c", probeScript(30, healthcheck, "/nonexistent")], {
        env: { PATH: process.env.PATH ?? "/usr/bin:/bin", HEALTHCHECK_URL: `${server.url}/config` },
        encoding: "utf8",
        timeout: 90_000,
      })
      assert.equal(result.status, 0, result.stderr)
      assert.equal(typeof JSON.parse(result.stdout), "object")
    } finally {
      await server.stop()
    }
  })
})
