/**
 * The committed Containerfile parses with a real Dockerfile parser (dockerfile-ast) and is clean under hadolint, with
 * every ignored rule justified on the line above its ignore.
 */
import assert from "node:assert/strict"
import { spawnSync } from "node:child_process"
import { existsSync, readFileSync } from "node:fs"
import { describe, it } from "node:test"
import { fileURLToPath } from "node:url"

import { DockerfileParser } from "dockerfile-ast"

const root = fileURLToPath(new URL("../..", import.meta.url))
const containerfilePath = `${root}containers/opencode-server/Containerfile`
const containerfile = readFileSync(containerfilePath, "utf8")

function hadolintBinary(): string {
  const candidates = [process.env.HADOLINT, `${root}.venv/bin/hadolint`].filter(Boolean) as string[]
  const found = candidates.find((candidate) => existsSync(candidate))
  assert.ok(found, `hadolint not found (looked at ${candidates.join(", ")}): install tests/requirements.lock into .venv`)
  return found
}

function hadolint(text: string): { status: number | null; findings: { code: string; message: string }[] } {
  const result = spawnSync(hadolintBinary(), ["--format", "json", "-"], { input: text, encoding: "utf8" })
  return { status: result.status, findings: JSON.parse(result.stdout || "[]") }
}

describe("the Containerfile", () => {
  it("parses into known instructions, in exec form where it matters", () => {
    const instructions = DockerfileParser.parse(containerfile).getInstructions()
    const keywords = instructions.map((instruction) => instruction.getKeyword())
    const known = new Set(["ARG", "FROM", "LABEL", "ENV", "RUN", "COPY", "WORKDIR", "EXPOSE", "HEALTHCHECK", "ENTRYPOINT", "VOLUME"])
    assert.deepEqual(keywords.filter((keyword) => !known.has(keyword)), [])
    assert.equal(keywords.filter((keyword) => keyword === "FROM").length, 1)
    const entrypoint = instructions.find((instruction) => instruction.getKeyword() === "ENTRYPOINT")
    const args = JSON.parse(entrypoint?.getArgumentsContent() ?? "null")
    assert.deepEqual(args.slice(0, 6), ["tini", "-g", "--", "/app/scripts/check-secrets", "/app/scripts/check-state-dirs", "ddtrace-run"])
    assert.deepEqual(args.slice(6), ["opencode", "serve", "--hostname", "0.0.0.0", "--port", "4096"])
  })

  it("has the proposal's health check timings and exposes 4096", () => {
    assert.match(containerfile, /^HEALTHCHECK --interval=30s --timeout=10s --start-period=40s --retries=3 \\\n\s+CMD \["\/app\/scripts\/healthcheck"\]$/m)
    assert.match(containerfile, /^EXPOSE 4096$/m)
  })

  it("is clean under hadolint", () => {
    const { status, findings } = hadolint(containerfile)
    assert.deepEqual(findings, [])
    assert.equal(status, 0)
  })

  it("justifies every ignored hadolint rule on the lines above", () => {
    const lines = containerfile.split("\n")
    lines.forEach((line, index) => {
      const ignore = line.match(/^# hadolint ignore=(.+)$/)
      if (!ignore) return
      for (const rule of ignore[1].split(",")) {
        const justification = lines.slice(Math.max(0, index - 3), index).find((above) => above.startsWith(`# ${rule}: `))
        assert.ok(justification && justification.length > `# ${rule}: `.length + 20, `${rule} is ignored without a reason`)
      }
    })
  })

  it("hadolint does catch a regression (shell-form entrypoint, unpinned install without --no-install-recommends)", () => {
    const regressed = containerfile
      .replace(/^ENTRYPOINT .*$/m, "ENTRYPOINT tini -- ddtrace-run opencode serve")
      .replace("apt-get install -y --no-install-recommends", "apt-get install -y")
    const codes = hadolint(regressed).findings.map((finding) => finding.code)
    assert.ok(codes.includes("DL3025"), `expected DL3025 (JSON entrypoint) in ${codes}`)
    assert.ok(codes.includes("DL3015"), `expected DL3015 (--no-install-recommends) in ${codes}`)
  })
})
