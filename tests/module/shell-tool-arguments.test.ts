/**
 * The shell tools a user runs by hand, on bad arguments: tools/harness/prove-image.sh and tools/make-ca-base.sh stop
 * with exit 2, a line naming the fault and their usage, before they install or build anything; --help is their header
 * comment and nothing after it.
 */
import assert from "node:assert/strict"
import { spawnSync } from "node:child_process"
import { describe, it } from "node:test"
import { fileURLToPath } from "node:url"

const root = fileURLToPath(new URL("../..", import.meta.url))

function run(script: string, ...args: string[]) {
  // HARNESS_WORK_DIR points nowhere useful: a tool that got past its arguments would fail differently.
  const result = spawnSync("bash", [script, ...args], {
    cwd: root,
    encoding: "utf8",
    timeout: 30_000,
    env: { ...process.env, HARNESS_WORK_DIR: "/nonexistent/harness-work-dir" },
  })
  return { status: result.status, stdout: result.stdout, stderr: result.stderr }
}

for (const [script, name] of [
  ["tools/harness/prove-image.sh", "prove-image.sh"],
  ["tools/make-ca-base.sh", "make-ca-base.sh"],
] as const) {
  describe(script, () => {
    it("--help prints the header comment, without the script's first command", () => {
      const result = run(script, "--help")
      assert.equal(result.status, 0, result.stderr)
      assert.match(result.stdout, /--engine/)
      assert.doesNotMatch(result.stdout, /set -[a-z]+o pipefail|^#/m)
    })

    const cases: [string[], RegExp][] = [
      [["--bogus"], new RegExp(`^${name}: unknown option: --bogus`)],
      [["--engine"], new RegExp(`^${name}: --engine needs a value`)],
      [["--engine", "rkt"], new RegExp(`^${name}: --engine must be podman or docker, not 'rkt'`)],
    ]
    if (name === "prove-image.sh") {
      cases.push([["--containerfile", ""], /^prove-image.sh: --containerfile needs a value/])
      cases.push([["--containerfile="], /^prove-image.sh: --containerfile needs a value/])
    } else {
      cases.push([["--tag", ""], /^make-ca-base.sh: --tag needs a value/])
    }
    for (const [args, message] of cases) {
      it(`${JSON.stringify(args)}: exit 2, the fault and the usage`, () => {
        const result = run(script, ...args)
        assert.equal(result.status, 2, result.stderr)
        assert.match(result.stderr, message)
        assert.match(result.stderr, /--engine/)
        assert.doesNotMatch(result.stderr, /parameter null or not set|line \d+:/)
      })
    }
  })
}

describe("tools/make-ca-base.sh inputs", () => {
  it("a --ca-dir that does not exist is named", () => {
    const result = run("tools/make-ca-base.sh", "--engine", "podman", "--ca-dir", "/nonexistent/ca-dir")
    assert.equal(result.status, 1)
    assert.match(result.stderr, /--ca-dir \/nonexistent\/ca-dir: no such folder/)
  })

  it("a --ca-dir without *.crt files is named", () => {
    const result = run("tools/make-ca-base.sh", "--engine", "podman", "--ca-dir", root + "docs")
    assert.equal(result.status, 1)
    assert.match(result.stderr, /no \*\.crt file in .*docs/)
  })
})
