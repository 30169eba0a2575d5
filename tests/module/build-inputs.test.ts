/**
 * Bad input stops a build before its first layer, with a message naming what is wrong: the module's validation (run by
 * build() on the Dagger Directory, and by the harness on disk) and the Containerfile's own guard on OPENCODE_VERSION.
 */
import assert from "node:assert/strict"
import { spawnSync } from "node:child_process"
import { cpSync, mkdtempSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { afterEach, beforeEach, describe, it } from "node:test"
import { fileURLToPath } from "node:url"

import { BuildInputError, validateBuildInputs } from "../../dagger/src/build-context.js"
import { DEFAULT_BASE_IMAGE, DEFAULT_OPENCODE_VERSION, imageSpec } from "../../dagger/src/image-spec.js"
import { diskReader } from "../../tools/build-context-on-disk.js"

const root = fileURLToPath(new URL("../..", import.meta.url))
const defaults = { BASE_IMAGE: DEFAULT_BASE_IMAGE, OPENCODE_VERSION: DEFAULT_OPENCODE_VERSION }

describe("bad build input", () => {
  let context: string
  beforeEach(() => {
    context = mkdtempSync(join(tmpdir(), "build-context-"))
    for (const path of ["config.json", "plugin/package.json", "plugin/package-lock.json", "graphiti/requirements.lock", "scripts"]) {
      cpSync(join(root, path), join(context, path), { recursive: true })
    }
  })
  afterEach(() => rmSync(context, { recursive: true, force: true }))

  const validate = (values: Record<string, string> = defaults) => validateBuildInputs(imageSpec, diskReader(context), values)

  it("the repository itself is a valid build context", async () => {
    await validateBuildInputs(imageSpec, diskReader(root), defaults)
  })

  it("a copy of what the image needs is valid", async () => {
    await validate()
  })

  for (const missing of ["config.json", "plugin", "graphiti", "scripts", "plugin/package-lock.json", "graphiti/requirements.lock"]) {
    it(`a missing ${missing} is named`, async () => {
      rmSync(join(context, missing), { recursive: true, force: true })
      await assert.rejects(validate(), (error: Error) => error instanceof BuildInputError && error.message.startsWith(`${missing} is missing`))
    })
  }

  it("a malformed config.json is named, with the line and column of the fault", async () => {
    writeFileSync(join(context, "config.json"), '{ "autoupdate": false')
    await assert.rejects(validate(), /^BuildInputError: config.json is not valid JSON\(C\), as OpenCode reads it: CloseBraceExpected at line 1/)
  })

  it("a config.json with comments and trailing commas is valid: OpenCode reads JSONC", async () => {
    writeFileSync(join(context, "config.json"), '// comment\n{ "autoupdate": false, }')
    await validate()
  })

  it("a malformed plugin/package.json is named (npm reads strict JSON)", async () => {
    writeFileSync(join(context, "plugin/package.json"), '{ "name": "plugin", }')
    await assert.rejects(validate(), /^BuildInputError: plugin\/package.json is not valid JSON/)
  })

  it("a config.json that is not an object is named", async () => {
    writeFileSync(join(context, "config.json"), "[]")
    await assert.rejects(validate(), /config.json must hold a JSON object/)
  })

  it("an empty base image reference is a clear error", async () => {
    await assert.rejects(validate({ ...defaults, BASE_IMAGE: " " }), /BASE_IMAGE is empty; expected: Base image/)
  })

  it("an empty OpenCode version is a clear error", async () => {
    await assert.rejects(validate({ ...defaults, OPENCODE_VERSION: "" }), /OPENCODE_VERSION is empty; expected: Release of the opencode-ai npm package/)
  })

  it("an OpenCode version that the plugin package does not match is refused (OpenCode would go to the network)", async () => {
    await assert.rejects(validate({ ...defaults, OPENCODE_VERSION: "1.0.0" }), /pins @opencode-ai\/plugin 1\.18\.33 but OPENCODE_VERSION is 1\.0\.0/)
  })

  it("the Containerfile's own guard stops an empty OPENCODE_VERSION before npm runs", () => {
    const step = imageSpec.steps.find((candidate) => candidate.kind === "run" && candidate.commands.some((command) => String(command).includes("opencode-ai@")))
    assert.ok(step && step.kind === "run")
    const guard = String(step.commands[0])
    const emptied = spawnSync("/bin/sh", ["-c", `set -eu; ${guard}; echo reached-npm`], { env: { OPENCODE_VERSION: "" }, encoding: "utf8" })
    assert.notEqual(emptied.status, 0)
    assert.match(emptied.stderr, /set OPENCODE_VERSION to an opencode-ai release/)
    assert.doesNotMatch(emptied.stdout, /reached-npm/)
    const given = spawnSync("/bin/sh", ["-c", `set -eu; ${guard}; echo reached-npm`], { env: { OPENCODE_VERSION: "1.18.33" }, encoding: "utf8" })
    assert.match(given.stdout, /reached-npm/)
  })
})
