/**
 * Starts the real `opencode serve` on a free loopback port in a throwaway HOME, and stops it (with its process group).
 */
import { ChildProcess, spawn } from "node:child_process"
import { mkdirSync, mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"

import { unusedLoopbackPort } from "./loopback-port.js"
import { opencodeBinary } from "./opencode-binary.js"

export interface RunningOpencode {
  url: string
  home: string
  project: string
  log: () => string
  stop: () => Promise<void>
}

/** `prepareHome` lays out config files before the server starts. */
export async function startOpencode(
  prepareHome: (home: string) => void,
  env: Record<string, string> = {},
): Promise<RunningOpencode> {
  const home = mkdtempSync(join(tmpdir(), "opencode-home-"))
  const project = join(home, "project")
  mkdirSync(project, { recursive: true })
  prepareHome(home)
  const port = await unusedLoopbackPort()
  let output = ""
  const child: ChildProcess = spawn(
    opencodeBinary(),
    ["serve", "--hostname", "127.0.0.1", "--port", String(port), "--print-logs"],
    {
      cwd: project,
      detached: true,
      env: { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: home, XDG_CONFIG_HOME: join(home, ".config"), XDG_DATA_HOME: join(home, ".local/share"), XDG_CACHE_HOME: join(home, ".cache"), XDG_STATE_HOME: join(home, ".local/state"), ...env },
    },
  )
  child.stdout?.on("data", (chunk) => (output += chunk))
  child.stderr?.on("data", (chunk) => (output += chunk))
  const stop = async () => {
    if (child.exitCode === null && child.pid) {
      const exited = new Promise((resolve) => child.once("exit", resolve))
      process.kill(-child.pid, "SIGTERM")
      const timer = setTimeout(() => child.pid && process.kill(-child.pid, "SIGKILL"), 5000)
      await exited
      clearTimeout(timer)
    }
    rmSync(home, { recursive: true, force: true })
  }
  return { url: `http://127.0.0.1:${port}`, home, project, log: () => output, stop }
}

/** Polls with a short per-request timeout: a request sent while OpenCode starts can hang for seconds. */
export async function waitForOk(url: string, init: RequestInit = {}, deadlineMs = 60_000): Promise<Response> {
  const deadline = Date.now() + deadlineMs
  let last = "no answer"
  while (Date.now() < deadline) {
    try {
      const response = await fetch(url, { ...init, signal: AbortSignal.timeout(1500) })
      if (response.ok) return response
      last = `HTTP ${response.status}`
    } catch (error) {
      last = (error as Error).message
    }
    await new Promise((resolve) => setTimeout(resolve, 200))
  }
  throw new Error(`${url} gave no 2xx within ${deadlineMs} ms (last: ${last})`)
}
