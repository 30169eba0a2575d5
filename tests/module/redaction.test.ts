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

describe("the redaction rules against generated config shapes", () => {
  let probe: ProbeProgramFile
  let program: any
  before(async () => {
    probe = writeProbeProgram()
    program = await importProbeProgram(probe)
  })
  after(() => probe.remove())

  /** A small seeded generator (mulberry32), so a failure names the seed that reproduces it. */
  function randomSource(seed: number) {
    let state = seed >>> 0
    const next = () => {
      state = (state + 0x6d2b79f5) >>> 0
      let t = state
      t = Math.imul(t ^ (t >>> 15), t | 1)
      t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
      return ((t ^ (t >>> 14)) >>> 0) / 4294967296
    }
    return { next, pick: <T>(items: readonly T[]): T => items[Math.floor(next() * items.length)] }
  }

  const secretKeys = ["OpenAIAPIKey", "X-Auth", "Cookie", "pwd", "pass", "GITHUB_PAT", "REDISCLI_AUTH", "access_token", "clientSecret", "x-api-key", "Set-Cookie", "privateKey"]
  const plainKeys = ["model", "baseURL", "share", "theme", "command", "args", "environment", "headers", "url", "options", "mcp"]

  /** One planted secret in one of the shapes a config can hold it, and where it must not survive. */
  function plant(random: ReturnType<typeof randomSource>, secret: string): { key?: string; value: unknown } {
    const flag = random.pick(["--api-key", "--token", "-password", "--auth"])
    switch (random.pick(["key", "userinfo", "query", "argv-next", "argv-equals", "env-assignment", "header-line"])) {
      case "key":
        return { key: random.pick(secretKeys), value: secret }
      case "userinfo":
        return { value: random.pick([`https://alice:${secret}@git.example/repo.git`, `redis://${secret}@valkey:6379/0`]) }
      case "query":
        return { value: `https://api.example/v1/items?limit=5&${random.pick(["access_token", "api_key", "token", "X-Amz-Signature"])}=${secret}#top` }
      case "argv-next":
        return { value: ["npx", "-y", "@example/mcp-server", flag, secret, "--verbose"] }
      case "argv-equals":
        return { value: ["npx", "-y", "@example/mcp-server", `${flag}=${secret}`] }
      case "env-assignment":
        return { value: ["env", `${random.pick(["GITHUB_TOKEN", "OPENAI_API_KEY", "DB_PASSWORD"])}=${secret}`, "node", "server.js"] }
      default:
        return { value: ["curl", "-H", `${random.pick(["Authorization", "X-Auth-Token", "Cookie"])}: Bearer ${secret}`, "https://api.example"] }
    }
  }

  function generate(random: ReturnType<typeof randomSource>, secrets: string[], canaries: string[], depth = 0): unknown {
    if (depth > 3 || random.next() < 0.25) {
      if (random.next() < 0.5) {
        const secret = `planted-${secrets.length}-${Math.floor(random.next() * 1e9).toString(36)}Q`
        secrets.push(secret)
        const planted = plant(random, secret)
        return planted.key ? { [planted.key]: planted.value } : planted.value
      }
      const canary = `canary-${canaries.length}-visible`
      canaries.push(canary)
      return canary
    }
    if (random.next() < 0.3) return Array.from({ length: 1 + Math.floor(random.next() * 3) }, () => generate(random, secrets, canaries, depth + 1))
    const object: Record<string, unknown> = {}
    for (let index = 0; index < 1 + Math.floor(random.next() * 4); index++) {
      if (random.next() < 0.3) {
        const secret = `planted-${secrets.length}-${Math.floor(random.next() * 1e9).toString(36)}K`
        secrets.push(secret)
        const planted = plant(random, secret)
        object[planted.key ?? `${random.pick(plainKeys)}${index}`] = planted.value
      } else {
        object[`${random.pick(plainKeys)}${index}`] = generate(random, secrets, canaries, depth + 1)
      }
    }
    return object
  }

  it("no planted secret survives, in any of 500 generated configs, and values that are not secrets stay", () => {
    let planted = 0
    for (let seed = 1; seed <= 500; seed++) {
      const random = randomSource(seed)
      const secrets: string[] = []
      const canaries: string[] = []
      const served = { provider: generate(random, secrets, canaries), mcp: generate(random, secrets, canaries) }
      const report = JSON.stringify(program.redactConfig(served, {}, [], []))
      for (const secret of secrets) assert.ok(!report.includes(secret), `seed ${seed}: ${secret} survived in ${report}`)
      for (const canary of canaries) assert.ok(report.includes(canary), `seed ${seed}: ${canary} was redacted in ${report}`)
      planted += secrets.length
    }
    assert.ok(planted > 1000, `only ${planted} secrets planted: the generator is not exercising the rules`)
  })

  it("the names the issue found kept are now secret names, and a plain URL keeps its host and parameters", () => {
    for (const name of ["OpenAIAPIKey", "X-Auth", "Cookie", "pwd", "pass", "GITHUB_PAT", "REDISCLI_AUTH", "access_token"]) {
      assert.equal(program.namesSecret(name), true, name)
    }
    for (const name of ["author", "passthrough", "path", "patience", "cookiecutter"]) assert.equal(program.namesSecret(name), false, name)
    assert.equal(program.scrubCredentialShapes("https://alice:pw@host.example/x?limit=5"), "https://[redacted]@host.example/x?limit=5")
    assert.equal(program.scrubCredentialShapes("https://host.example/x?limit=5&access_token=abc"), "https://host.example/x?limit=5&access_token=[redacted]")
  })
})

describe("the probe's failure report", () => {
  it("scrubs credential shapes from the server's last lines it prints", () => {
    const probe = writeProbeProgram()
    try {
      const serverLines = "echo 'dial https://alice:userinfo-secret-1@db.example/x?access_token=query-secret-2'; echo 'Authorization: Bearer header-secret-3'; exit 3"
      const result = runProbe(probe, {
        HEALTHCHECK_URL: "http://127.0.0.1:9/config",
        PROBE_HEALTHCHECK: new URL("../../scripts/healthcheck", import.meta.url).pathname,
        PROBE_ATTEMPTS: "2",
        PROBE_INTERVAL_MS: "100",
      }, ["sh", "-c", serverLines])
      assert.notEqual(result.status, 0)
      assert.match(result.stderr, /db\.example/, `the server's lines are not in the report: ${result.stderr}`)
      for (const secret of ["userinfo-secret-1", "query-secret-2", "header-secret-3"]) assert.ok(!result.stderr.includes(secret), `${secret} in ${result.stderr}`)
    } finally {
      probe.remove()
    }
  })
})
