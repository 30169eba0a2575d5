/**
 * The healthcheck probe program (dagger/src/probe-program.ts) written to a throwaway file, as `healthcheck` writes it in
 * the image, so tests run the very same text with this machine's node.
 */
import { spawnSync } from "node:child_process"
import { mkdtempSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { basename, join } from "node:path"
import { pathToFileURL } from "node:url"

import { PROBE_PATH, PROBE_PROGRAM } from "../../dagger/src/probe-program.js"

export interface ProbeProgramFile {
  path: string
  remove: () => void
}

export function writeProbeProgram(): ProbeProgramFile {
  const dir = mkdtempSync(join(tmpdir(), "healthcheck-probe-"))
  const path = join(dir, basename(PROBE_PATH))
  writeFileSync(path, PROBE_PROGRAM)
  return { path, remove: () => rmSync(dir, { recursive: true, force: true }) }
}

/** The program's exported helpers (redaction, secret names), loaded as a module: importing does not run the probe. */
export async function importProbeProgram(file: ProbeProgramFile): Promise<any> {
  return import(pathToFileURL(file.path).href)
}

/** Runs the probe with node; `command` is the server's command line (empty: a server already runs). */
export function runProbe(file: ProbeProgramFile, env: Record<string, string>, command: string[] = [], timeoutMs = 120_000) {
  return spawnSync(process.execPath, [file.path, ...command], {
    env: { PATH: process.env.PATH ?? "/usr/bin:/bin", ...env },
    encoding: "utf8",
    timeout: timeoutMs,
  })
}

/**
 * The probe's environment around a throwaway HOME, as the image lays it out: OpenCode's config, data, cache and state
 * under it, its log folder where the probe reads it, the image's health check script, one try a second.
 */
export function probeHomeEnv(home: string, healthcheck: string): Record<string, string> {
  return {
    HOME: home,
    XDG_CONFIG_HOME: join(home, ".config"),
    XDG_DATA_HOME: join(home, ".local/share"),
    XDG_CACHE_HOME: join(home, ".cache"),
    XDG_STATE_HOME: join(home, ".local/state"),
    PROBE_HEALTHCHECK: healthcheck,
    PROBE_LOG_DIRECTORY: join(home, ".local/share/opencode/log"),
    PROBE_INTERVAL_MS: "1000",
  }
}
