import { spawn, type ChildProcess } from "node:child_process";
import { createWriteStream } from "node:fs";

/**
 * A server process started by a test: its own process group (so stopping it also stops what it
 * started, e.g. OpenCode's memory process), output captured to a log file for failure reports.
 */
export class TestProcess {
  private exited: Promise<void>;
  exitCode: number | null = null;

  constructor(
    readonly name: string,
    readonly child: ChildProcess,
    readonly logFile: string,
  ) {
    this.exited = new Promise((resolve) =>
      child.once("exit", (code) => {
        this.exitCode = code ?? -1;
        resolve();
      }),
    );
  }

  get running(): boolean {
    return this.exitCode === null;
  }

  /** Stops the whole process group, including members that outlived the leader. */
  async stop(timeoutMs = 10_000): Promise<void> {
    const pid = this.child.pid;
    if (pid === undefined) return;
    const signalGroup = (signal: NodeJS.Signals | 0): boolean => {
      try {
        process.kill(-pid, signal);
        return true;
      } catch {
        return false;
      }
    };
    if (!signalGroup("SIGTERM")) return;
    const deadline = Date.now() + timeoutMs;
    while (signalGroup(0) && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 50));
    signalGroup("SIGKILL");
    if (this.running) await this.exited;
  }
}

export function startProcess(
  name: string,
  command: string,
  args: string[],
  options: { env?: NodeJS.ProcessEnv; cwd?: string; logFile: string },
): TestProcess {
  const log = createWriteStream(options.logFile, { flags: "a" });
  const child = spawn(command, args, {
    cwd: options.cwd,
    env: options.env ?? process.env,
    detached: true,
    stdio: ["ignore", "pipe", "pipe"],
  });
  child.stdout?.pipe(log);
  child.stderr?.pipe(log);
  child.once("error", (error) => log.write(`\n[spawn error] ${error.message}\n`));
  return new TestProcess(name, child, options.logFile);
}

/** Polls `probe` until it returns a value, the process dies, or the timeout passes. */
export async function waitUntil<T>(
  what: string,
  probe: () => Promise<T | undefined>,
  timeoutMs: number,
  process?: TestProcess,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (process && !process.running) throw new Error(`${process.name} exited (code ${process.exitCode}) while waiting for ${what}; see ${process.logFile}`);
    const value = await probe().catch(() => undefined);
    if (value !== undefined) return value;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${process ? `; see ${process.logFile}` : ""}`);
}
