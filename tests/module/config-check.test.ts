/**
 * config.json is judged as OpenCode judges it. The build-context check (build() and tools/check-build-context.ts) parses
 * it as the real opencode binary does (JSONC): for each sample both give the same verdict. The image's own config step
 * (image-spec.ts, rendered into the Containerfile and the Dagger pipeline) runs the real binary on it and fails the
 * build with a message naming config.json, for a schema fault the JSONC check cannot see.
 */
import assert from "node:assert/strict"
import { spawnSync } from "node:child_process"
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { after, describe, it } from "node:test"
import { fileURLToPath } from "node:url"

import { BuildInputError, parseOpencodeConfig } from "../../dagger/src/build-context.js"
import { CONFIG_CHECK_COMMANDS, COPIED_PATHS } from "../../dagger/src/image-spec.js"
import { opencodeBinary } from "../support/opencode-binary.js"

const root = fileURLToPath(new URL("../..", import.meta.url))
const scratch = mkdtempSync(join(tmpdir(), "config-check-"))
after(() => rmSync(scratch, { recursive: true, force: true }))

/** The real binary's verdict: `opencode debug config` on the text as the global config of a throwaway HOME. */
function opencodeAccepts(text: string): { accepted: boolean; stderr: string } {
  const home = mkdtempSync(join(scratch, "home-"))
  mkdirSync(join(home, ".config/opencode"), { recursive: true })
  mkdirSync(join(home, "project"))
  writeFileSync(join(home, ".config/opencode/opencode.json"), text)
  const result = spawnSync(opencodeBinary(), ["debug", "config"], {
    cwd: join(home, "project"),
    env: { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: home, XDG_CONFIG_HOME: join(home, ".config"), XDG_DATA_HOME: join(home, ".local/share"), XDG_CACHE_HOME: join(home, ".cache"), XDG_STATE_HOME: join(home, ".local/state") },
    encoding: "utf8",
    timeout: 90_000,
  })
  return { accepted: result.status === 0, stderr: result.stderr }
}

function ourCheckAccepts(text: string): boolean {
  try {
    const parsed = parseOpencodeConfig("config.json", text)
    return parsed !== null && typeof parsed === "object" && !Array.isArray(parsed)
  } catch (error) {
    assert.ok(error instanceof BuildInputError)
    return false
  }
}

const samples: Record<string, string> = {
  "comments and a trailing comma": '// the team\'s settings\n{\n  /* no updates in an image */ "autoupdate": false,\n}\n',
  "a missing closing brace": '{ "autoupdate": false',
  "an empty file": "",
}

describe("config.json: the build-context check agrees with the real opencode binary", { timeout: 600_000 }, () => {
  for (const [name, text] of Object.entries(samples)) {
    it(`on ${name}`, () => {
      const opencode = opencodeAccepts(text)
      assert.equal(ourCheckAccepts(text), opencode.accepted, `opencode ${opencode.accepted ? "accepts" : "refuses"} it:\n${opencode.stderr}`)
    })
  }

  it("names the line and column of a syntax error, as OpenCode does", () => {
    assert.throws(() => parseOpencodeConfig("config.json", '{\n  "autoupdate": false\n  "share": "disabled"\n}'),
      /^BuildInputError: config.json is not valid JSON\(C\), as OpenCode reads it: CommaExpected at line 3, column 3/)
  })
})

describe("the image's config step, with the real opencode binary", { timeout: 300_000 }, () => {
  /** Runs the step's commands as the build does (`set -eux`), on `text` in place of the copied config.json. */
  function runConfigStep(text: string) {
    const dir = mkdtempSync(join(scratch, "step-"))
    const config = join(dir, "opencode.json")
    writeFileSync(config, text)
    const bin = join(dir, "bin")
    mkdirSync(bin)
    symlinkSync(opencodeBinary(), join(bin, "opencode"))
    const script = ["set -eux", ...CONFIG_CHECK_COMMANDS.map(String)].join("; ").replaceAll(COPIED_PATHS.config.destination, config)
    const tmp = join(dir, "tmp")
    mkdirSync(tmp)
    const result = spawnSync("/bin/sh", ["-c", script], {
      env: { PATH: `${bin}:/usr/bin:/bin`, HOME: "/nonexistent-home", TMPDIR: tmp },
      encoding: "utf8",
      timeout: 120_000,
    })
    return { ...result, tmp }
  }

  it("passes the repository's config.json and leaves nothing behind", () => {
    const result = runConfigStep(readFileSync(join(root, "config.json"), "utf8"))
    assert.equal(result.status, 0, result.stderr)
    assert.deepEqual(readdirSync(result.tmp), [])
  })

  it("fails on a config OpenCode refuses (a schema fault JSONC cannot see), naming config.json and the fault", () => {
    const result = runConfigStep('{ "share": "sometimes", }')
    assert.notEqual(result.status, 0)
    assert.match(result.stderr, /config\.json \(.*opencode\.json\): OpenCode refuses it/)
    assert.match(result.stderr, /share/)
  })
})
