/**
 * Finds the real opencode binary for tests: OPENCODE_BIN, else a platform package of opencode-ai@1.18.33 that the root
 * package.json lists as optional dependencies. The platform packages are depended on directly, not through
 * `opencode-ai`: its postinstall (which picks the binary) does not run under npm 11's default, and a lockfile through it
 * would have to list all twelve platforms, some of which this machine's registry does not serve.
 */
import { spawnSync } from "node:child_process"
import { existsSync } from "node:fs"
import { createRequire } from "node:module"
import { dirname, join } from "node:path"

const require = createRequire(import.meta.url)

export function opencodeBinary(): string {
  const candidates = process.env.OPENCODE_BIN ? [process.env.OPENCODE_BIN] : platformBinaries()
  for (const candidate of candidates) {
    if (existsSync(candidate) && spawnSync(candidate, ["--version"], { encoding: "utf8" }).status === 0) return candidate
  }
  throw new Error(`no runnable opencode binary among: ${candidates.join(", ")} (run npm ci, or set OPENCODE_BIN)`)
}

function platformBinaries(): string[] {
  const platform = process.platform === "win32" ? "windows" : process.platform
  const base = `opencode-${platform}-${process.arch}`
  const binaryName = platform === "windows" ? "opencode.exe" : "opencode"
  const found: string[] = []
  for (const name of [base, `${base}-baseline`, `${base}-musl`, `${base}-baseline-musl`]) {
    try {
      found.push(join(dirname(require.resolve(`${name}/package.json`)), "bin", binaryName))
    } catch {
      // this variant is not installed here
    }
  }
  return found
}
