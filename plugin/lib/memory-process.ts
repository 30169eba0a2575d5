import { spawn, type ChildProcess } from "node:child_process";
import { existsSync } from "node:fs";
import path from "node:path";
import type { MemoryClient } from "./memory-client.ts";
import { describeError, type Logger } from "./warn.ts";

export type SupervisorOptions = {
  client: MemoryClient;
  logger: Logger;
  command: string;
  args: string[];
  autostart: boolean;
  healthIntervalMs: number;
  startupGraceMs: number;
  restartBackoffMaxMs: number;
  /** Called whenever a probe finds the process healthy (the ingest queue drains then). */
  onHealthy?: () => void;
  env?: NodeJS.ProcessEnv;
};

const PROBE_TIMEOUT_MS = 1000;
const TERMINATING_SIGNALS: NodeJS.Signals[] = ["SIGTERM", "SIGINT", "SIGHUP"];
const SETPRIV_PATHS = ["/usr/bin/setpriv", "/bin/setpriv"];

/**
 * `opencode serve` dies on SIGTERM without running JavaScript exit handlers, and a crash runs none
 * at all, which would orphan the memory process. util-linux's setpriv (present on Debian) execs the
 * command with a parent-death signal, so the kernel stops the child whenever OpenCode goes; the pid
 * and the process tree stay the same. Without setpriv the command runs directly.
 */
export function withParentDeathSignal(command: string, args: string[], exists: (file: string) => boolean = existsSync): [string, string[]] {
  const setpriv = SETPRIV_PATHS.find((candidate) => exists(candidate));
  return setpriv ? [setpriv, ["--pdeathsig", "TERM", "--", command, ...args]] : [command, args];
}
const FIRST_RESTART_DELAY_MS = 1000;

/**
 * Keeps the memory process alive as a child of OpenCode. It probes `GET /health` first, so an
 * already running process (another OpenCode, an operator) is used rather than duplicated, spawns
 * only when nothing answers, restarts a dead child with exponential backoff, and replaces a child
 * that never becomes healthy within the startup grace. Everything runs on timers: `start` returns
 * at once and plugin initialisation never waits for Python.
 */
export class MemoryProcessSupervisor {
  private child: ChildProcess | undefined;
  private childStartedAt = 0;
  private timer: NodeJS.Timeout | undefined;
  private restartDelayMs = FIRST_RESTART_DELAY_MS;
  private stopped = true;
  private lastHealthy = false;
  private checking = false;
  private reportedDegraded = false;
  private readonly killChildOnExit = () => this.child?.kill("SIGTERM");
  /**
   * Stops the child on OpenCode's terminating signals, then, when nothing else in OpenCode handles
   * the signal, re-raises it so OpenCode still ends exactly as it would have without this plugin.
   */
  private readonly killChildOnSignal = (signal: NodeJS.Signals) => {
    this.killChildOnExit();
    this.removeSignalHandlers();
    if (process.listenerCount(signal) === 0) process.kill(process.pid, signal);
  };

  constructor(private readonly options: SupervisorOptions) {}

  get healthy(): boolean {
    return this.lastHealthy;
  }

  get childPid(): number | undefined {
    return this.child?.pid;
  }

  start(): void {
    if (!this.stopped) return;
    this.stopped = false;
    process.once("exit", this.killChildOnExit);
    for (const signal of TERMINATING_SIGNALS) process.on(signal, this.killChildOnSignal);
    this.schedule(0);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    process.removeListener("exit", this.killChildOnExit);
    this.removeSignalHandlers();
    const child = this.child;
    this.child = undefined;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
    child.kill("SIGTERM");
    const forced = setTimeout(() => child.kill("SIGKILL"), 5000);
    await exited;
    clearTimeout(forced);
  }

  private removeSignalHandlers(): void {
    for (const signal of TERMINATING_SIGNALS) process.removeListener(signal, this.killChildOnSignal);
  }

  private schedule(delayMs: number): void {
    if (this.stopped) return;
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => void this.check(), delayMs);
    this.timer.unref?.();
  }

  private async check(): Promise<void> {
    if (this.stopped || this.checking) return;
    this.checking = true;
    try {
      const health = await this.options.client.probe(PROBE_TIMEOUT_MS);
      if (this.stopped) return;
      if (health?.status === "ok") {
        if (!this.lastHealthy) this.options.logger.info(`memory process healthy at ${this.options.client.baseUrl}`);
        this.lastHealthy = true;
        this.reportedDegraded = false;
        this.restartDelayMs = FIRST_RESTART_DELAY_MS;
        this.options.onHealthy?.();
        this.schedule(this.options.healthIntervalMs);
        return;
      }
      if (health) {
        // Alive but waiting for FalkorDB or Valkey: restarting it would not help (it retries them itself, and says so
        // in its own log once). One line here per degraded spell, not one per probe.
        if (!this.reportedDegraded) {
          this.options.logger.info(
            `memory process is up but ${health.status} (FalkorDB ${health.falkordb ? "up" : "unreachable"}, Valkey ${health.valkey ? "up" : "unreachable"}); turns are kept in the spool until it is healthy`,
          );
        }
        this.reportedDegraded = true;
        this.lastHealthy = false;
        this.childStartedAt = Date.now();
        this.schedule(this.options.healthIntervalMs);
        return;
      }
      if (this.lastHealthy) this.options.logger.warn("memory-unhealthy", "memory process stopped answering /health");
      this.lastHealthy = false;
      if (!this.options.autostart) {
        this.schedule(this.options.healthIntervalMs);
        return;
      }
      if (!this.child) {
        this.spawnChild();
        this.schedule(Math.min(1000, this.options.healthIntervalMs));
        return;
      }
      if (Date.now() - this.childStartedAt > this.options.startupGraceMs) {
        this.options.logger.warn("memory-hung", "memory process never became healthy; restarting it");
        this.child.kill("SIGTERM");
      }
      this.schedule(Math.min(1000, this.options.healthIntervalMs));
    } finally {
      this.checking = false;
    }
  }

  private spawnChild(): void {
    let child: ChildProcess;
    // Checked here because through setpriv a missing interpreter is only an exit code.
    if (path.isAbsolute(this.options.command) && !existsSync(this.options.command)) {
      this.onChildGone(`cannot start the memory process: ${this.options.command} does not exist`);
      return;
    }
    try {
      // Inherited env carries ddtrace-run's PYTHONPATH and DD_* so the memory process is traced.
      const [command, args] = withParentDeathSignal(this.options.command, this.options.args);
      child = spawn(command, args, {
        env: this.options.env ?? process.env,
        stdio: ["ignore", "inherit", "inherit"],
      });
    } catch (error) {
      this.onChildGone(`cannot start ${this.options.command}: ${describeError(error)}`);
      return;
    }
    this.child = child;
    this.childStartedAt = Date.now();
    if (child.pid !== undefined) this.options.logger.info(`started memory process (pid ${child.pid})`);
    child.once("error", (error) => {
      if (this.child === child) this.onChildGone(`memory process failed: ${describeError(error)}`);
    });
    child.once("exit", (code, signal) => {
      if (this.child === child) this.onChildGone(`memory process exited (${signal ?? `code ${code}`})`);
    });
  }

  private onChildGone(reason: string): void {
    this.child = undefined;
    this.lastHealthy = false;
    if (this.stopped) return;
    const delay = this.restartDelayMs;
    this.restartDelayMs = Math.min(this.restartDelayMs * 2, this.options.restartBackoffMaxMs);
    this.options.logger.warn("memory-exit", `${reason}; restarting in ${delay} ms (chat continues without memory)`);
    this.schedule(delay);
  }
}
