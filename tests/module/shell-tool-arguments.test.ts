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

// Each tool's usage names an option of its own: the usage is what follows the fault.
for (const [script, name, usageOption] of [
  ["tools/harness/prove-image.sh", "prove-image.sh", "--extra-ca-dir"],
  ["tools/make-ca-base.sh", "make-ca-base.sh", "--engine"],
] as const) {
  describe(script, () => {
    it("--help prints the header comment, without the script's first command", () => {
      const result = run(script, "--help")
      assert.equal(result.status, 0, result.stderr)
      assert.match(result.stdout, new RegExp(usageOption))
      assert.doesNotMatch(result.stdout, /set -[a-z]+o pipefail|^#/m)
    })

    const cases: [string[], RegExp][] = [[["--bogus"], new RegExp(`^${name}: unknown option: --bogus`)]]
    if (name === "prove-image.sh") {
      cases.push([["--containerfile", ""], /^prove-image.sh: --containerfile needs a value/])
      cases.push([["--containerfile="], /^prove-image.sh: --containerfile needs a value/])
      cases.push([["--extra-ca-dir"], /^prove-image.sh: --extra-ca-dir needs a directory/])
      // The proof runs on Podman only (its checks share tests/support/podman.py); Docker builds the same file by hand.
      cases.push([["--engine", "docker"], /^prove-image.sh: unknown option: --engine/])
    } else {
      cases.push([["--engine"], /^make-ca-base.sh: --engine needs a value/])
      cases.push([["--engine", "rkt"], /^make-ca-base.sh: --engine must be podman or docker, not 'rkt'/])
      cases.push([["--tag", ""], /^make-ca-base.sh: --tag needs a value/])
    }
    for (const [args, message] of cases) {
      it(`${JSON.stringify(args)}: exit 2, the fault and the usage`, () => {
        const result = run(script, ...args)
        assert.equal(result.status, 2, result.stderr)
        assert.match(result.stderr, message)
        assert.match(result.stderr, new RegExp(usageOption))
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

describe("tools/harness/make-base.sh and build-image.sh: platforms", () => {
  for (const [script, name] of [["tools/harness/make-base.sh", "make-base.sh"], ["tools/harness/build-image.sh", "build-image.sh"]]) {
    it(`${name} --arch s390x: exit 2 naming the supported platforms, before anything is installed or built`, () => {
      const result = run(script, "--arch", "s390x")
      assert.equal(result.status, 2, result.stderr)
      assert.match(result.stderr, new RegExp(`^${name}: --arch must be amd64 or arm64.*not 's390x'`))
      assert.doesNotMatch(result.stderr, /installing|debootstrap|parameter null or not set|line \d+:/)
    })
  }

  it("make-base.sh: a missing value and an unknown option are named, with the usage", () => {
    for (const [args, message] of [[["--node-version"], /^make-base.sh: --node-version needs a value/], [["--bogus"], /^make-base.sh: unknown option: --bogus/]] as const) {
      const result = run("tools/harness/make-base.sh", ...args)
      assert.equal(result.status, 2, result.stderr)
      assert.match(result.stderr, message)
      assert.match(result.stderr, /--arch/)
    }
  })

  it("emulation.sh without a command prints its usage and exits 2", () => {
    const result = run("tools/harness/emulation.sh")
    assert.equal(result.status, 2)
    assert.match(result.stderr, /emulation\.sh enable ARCH/)
  })
})
