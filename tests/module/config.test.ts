/**
 * config.json is accepted by the real opencode binary: `opencode serve` with it as the global config answers /config
 * and echoes its settings; a config OpenCode rejects is told apart.
 */
import assert from "node:assert/strict"
import { cpSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import { describe, it } from "node:test"
import { fileURLToPath } from "node:url"

import { startOpencode, waitForOk } from "../support/opencode-server.js"

const root = fileURLToPath(new URL("../..", import.meta.url))
const config = JSON.parse(readFileSync(join(root, "config.json"), "utf8"))

/** As in the image: the global config dir holds config.json and the preinstalled plugin package, so nothing is fetched. */
function globalConfig(configText: string) {
  return (home: string) => {
    const dir = join(home, ".config/opencode")
    mkdirSync(dir, { recursive: true })
    writeFileSync(join(dir, "opencode.json"), configText)
    cpSync(join(root, "plugin/package.json"), join(dir, "package.json"))
    cpSync(join(root, "plugin/package-lock.json"), join(dir, "package-lock.json"))
    symlinkSync(join(root, "plugin/node_modules"), join(dir, "node_modules"))
  }
}

describe("config.json with the real opencode server", { timeout: 120_000 }, () => {
  it("is loaded: /config echoes every top-level setting", async () => {
    const server = await startOpencode(globalConfig(JSON.stringify(config)))
    try {
      const body = await (await waitForOk(`${server.url}/config`)).json()
      for (const [key, value] of Object.entries(config)) {
        if (key === "$schema") continue
        assert.deepEqual(body[key], value, `/config.${key}; server log:\n${server.log().slice(-2000)}`)
      }
    } finally {
      await server.stop()
    }
  })

  it("a config OpenCode rejects keeps it from serving, naming the file (so the check above can fail)", async () => {
    const server = await startOpencode(globalConfig(JSON.stringify({ ...config, share: "not-a-share-mode" })))
    try {
      // OpenCode first reports the file it refuses (after 15 s and more on a loaded machine: a fixed 8 s was not
      // enough), and then must still not serve.
      const deadline = Date.now() + 90_000
      while (!/opencode\.json/.test(server.log()) && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 250))
      assert.match(server.log(), /opencode\.json/)
      await assert.rejects(waitForOk(`${server.url}/config`, {}, 5000))
    } finally {
      await server.stop()
    }
  })
})
