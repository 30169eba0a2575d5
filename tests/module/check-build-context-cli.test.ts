/**
 * tools/check-build-context.ts as a user runs it: help, bad usage (exit 2, one clear line and the usage, never a stack
 * trace), a context folder that is not there (named), an invalid context (exit 1, naming the fault) and a valid one.
 */
import assert from "node:assert/strict"
import { spawnSync } from "node:child_process"
import { cpSync, mkdtempSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { after, describe, it } from "node:test"
import { fileURLToPath } from "node:url"

const root = fileURLToPath(new URL("../..", import.meta.url))
const tsx = join(root, "node_modules/.bin/tsx")

function checkBuildContext(...args: string[]) {
  const result = spawnSync(tsx, ["tools/check-build-context.ts", ...args], { cwd: root, encoding: "utf8", timeout: 60_000 })
  return { status: result.status, stdout: result.stdout, stderr: result.stderr }
}

function assertNoStackTrace(output: string) {
  assert.doesNotMatch(output, /\n\s+at |node:internal|ERR_PARSE_ARGS/, output)
}

describe("tools/check-build-context.ts on the command line", { timeout: 300_000 }, () => {
  const scratch = mkdtempSync(join(tmpdir(), "check-build-context-cli-"))
  after(() => rmSync(scratch, { recursive: true, force: true }))

  it("--help prints the usage and exits 0", () => {
    const result = checkBuildContext("--help")
    assert.equal(result.status, 0)
    assert.match(result.stdout, /^usage: npx tsx tools\/check-build-context.ts \[--context DIR\]/)
    assert.match(result.stdout, /--opencode-version VERSION/)
  })

  for (const [args, message] of [
    [["--bogus"], /check-build-context: Unknown option '--bogus'/],
    [["--context"], /check-build-context: Option '--context <value>' argument missing/],
    [["stray"], /check-build-context: Unexpected argument 'stray'/],
  ] as const) {
    it(`${args.join(" ")}: exit 2, the fault in one line and the usage, no stack trace`, () => {
      const result = checkBuildContext(...args)
      assert.equal(result.status, 2)
      assert.match(result.stderr, message)
      assert.match(result.stderr, /usage: npx tsx tools\/check-build-context.ts/)
      assertNoStackTrace(result.stderr)
    })
  }

  it("a --context folder that does not exist is named", () => {
    const missing = join(scratch, "no-such-context")
    const result = checkBuildContext("--context", missing)
    assert.equal(result.status, 2)
    assert.match(result.stderr, new RegExp(`--context ${missing}: no such folder`))
    assert.doesNotMatch(result.stderr, /plugin is missing/)
    assertNoStackTrace(result.stderr)
  })

  it("an invalid context: exit 1, naming the fault and the context", () => {
    const context = join(scratch, "context")
    for (const path of ["config.json", "plugin", "graphiti", "scripts"]) {
      cpSync(join(root, path), join(context, path), { recursive: true, filter: (source) => !source.includes("node_modules") })
    }
    writeFileSync(join(context, "config.json"), '{ "autoupdate": false')
    const result = checkBuildContext("--context", context)
    assert.equal(result.status, 1)
    assert.match(result.stderr, new RegExp(`build context invalid \\(${context}\\): config.json is not valid JSON\\(C\\)`))
    assertNoStackTrace(result.stderr)
  })

  it("the repository itself: exit 0", () => {
    const result = checkBuildContext()
    assert.equal(result.status, 0, result.stderr)
    assert.match(result.stdout, /^build context ok/)
  })
})
