/**
 * `healthcheck` prints no secret: the real opencode binary resolves {env:...} and {file:...} placeholders before it
 * serves /config, and the probe program (the text `healthcheck` runs in the image) redacts them, and every value under
 * a key naming a key, token, password or secret, before anything is printed.
 */
import assert from "node:assert/strict"
import { mkdirSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import { after, before, describe, it } from "node:test"

import { importProbeProgram, ProbeProgramFile, runProbe, writeProbeProgram } from "../support/probe-program-file.js"
import { RunningOpencode, startOpencode, waitForOk } from "../support/opencode-server.js"

const secrets = {
  apiKey: `sk-test-${Math.random().toString(36).slice(2)}`,
  baseUrl: `https://private-${Math.random().toString(36).slice(2)}.example/v1`,
  username: `file-user-${Math.random().toString(36).slice(2)}`,
  teamHeader: `team-header-${Math.random().toString(36).slice(2)}`,
  password: `server-password-${Math.random().toString(36).slice(2)}`,
}

/** Placeholders under secret-named keys (apiKey) and under keys that name nothing secret (baseURL, username, X-Team). */
const config = {
  $schema: "https://opencode.ai/config.json",
  autoupdate: false,
  share: "disabled",
  username: "{file:~/user.txt}",
  provider: {
    openai: {
      options: {
        apiKey: "{env:MY_SECRET_KEY}",
        baseURL: "{env:PRIVATE_BASE_URL}",
        headers: { "X-Team": "{file:./team.txt}" },
      },
    },
  },
}

describe("healthcheck's redaction against the real opencode /config", { timeout: 120_000 }, () => {
  let server: RunningOpencode
  let probe: ProbeProgramFile
  let configFile: string
  const env = { MY_SECRET_KEY: secrets.apiKey, PRIVATE_BASE_URL: secrets.baseUrl, OPENCODE_SERVER_PASSWORD: secrets.password }

  before(async () => {
    probe = writeProbeProgram()
    server = await startOpencode((home) => {
      const dir = join(home, ".config/opencode")
      mkdirSync(dir, { recursive: true })
      configFile = join(dir, "opencode.json")
      writeFileSync(configFile, JSON.stringify(config))
      writeFileSync(join(home, "user.txt"), `${secrets.username}\n`)
      writeFileSync(join(dir, "team.txt"), secrets.teamHeader)
    }, env)
  })
  after(async () => {
    await server?.stop()
    probe?.remove()
  })

  it("the real server does serve the resolved secrets (so the redaction below is not vacuous)", async () => {
    const basic = Buffer.from(`opencode:${secrets.password}`).toString("base64")
    const body = await (await waitForOk(`${server.url}/config`, { headers: { authorization: `Basic ${basic}` } })).text()
    for (const value of [secrets.apiKey, secrets.baseUrl, secrets.username, secrets.teamHeader]) assert.ok(body.includes(value), value)
  })

  it("the probe's report carries none of them, names the redacted paths, and keeps the rest of the config", () => {
    const result = runProbe(probe, {
      ...env,
      HOME: server.home,
      HEALTHCHECK_URL: `${server.url}/config`,
      PROBE_HEALTHCHECK: new URL("../../scripts/healthcheck", import.meta.url).pathname,
      PROBE_CONFIG_FILE: configFile,
      PROBE_ATTEMPTS: "30",
      PROBE_INTERVAL_MS: "1000",
    })
    assert.equal(result.status, 0, result.stderr)
    for (const value of Object.values(secrets)) {
      assert.ok(!result.stdout.includes(value), `the report leaks ${value}`)
      assert.ok(!result.stderr.includes(value), `stderr leaks ${value}`)
    }
    const report = JSON.parse(result.stdout)
    assert.deepEqual(report.redacted.sort(), [
      "provider.openai.options.apiKey",
      "provider.openai.options.baseURL",
      "provider.openai.options.headers.X-Team",
      "username",
    ])
    assert.equal(report.config.provider.openai.options.apiKey, "[redacted]")
    assert.equal(report.config.share, "disabled")
    assert.equal(report.config.autoupdate, false)
    assert.equal(report.memory, null)
  })
})

describe("the redaction rules", () => {
  let probe: ProbeProgramFile
  let program: any
  before(async () => {
    probe = writeProbeProgram()
    program = await importProbeProgram(probe)
  })
  after(() => probe.remove())

  it("a key names a secret by one of its words, in any casing, and not by a longer word that contains one", () => {
    for (const name of ["apiKey", "APIKey", "api_key", "x-api-key", "OPENAI_API_KEY", "accessToken", "clientSecret", "FALKORDB_PASSWORD", "Authorization"]) {
      assert.equal(program.namesSecret(name), true, name)
    }
    for (const name of ["keybinds", "maxTokens", "share", "model", "baseURL", "tokenizer", "monkey"]) {
      assert.equal(program.namesSecret(name), false, name)
    }
  })

  it("a value from a placeholder is redacted where it sits, and scrubbed wherever else it appears", () => {
    const committed = { a: { b: "prefix {env:X} suffix" }, list: ["{env:Y}", "plain"] }
    const served = { a: { b: "prefix value-of-x suffix" }, list: ["value-of-y", "plain"], echoed: "see value-of-x here" }
    const secretList = program.secretValues(JSON.stringify(committed), "/nonexistent/opencode.json", { X: "value-of-x", Y: "value-of-y" })
    const paths: string[] = []
    const redacted = program.redactConfig(served, committed, secretList, paths)
    assert.deepEqual(redacted, { a: { b: "[redacted]" }, list: ["[redacted]", "plain"], echoed: "see [redacted] here" })
    assert.deepEqual(paths.sort(), ["a.b", "echoed", "list[0]"])
  })

  it("a short secret is redacted where a whole string equals it, not inside other words", () => {
    assert.equal(program.scrub("abc", ["abc"]), "[redacted]")
    assert.equal(program.scrub("xabcx", ["abc"]), "xabcx")
  })
})
