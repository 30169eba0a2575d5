import { existsSync } from "node:fs";
import { homedir } from "node:os";
import path from "node:path";
import { dogstatsdTarget, type DogStatsdTarget } from "./dogstatsd.ts";

/** Every knob of the plugin, read from the environment once per plugin instance. */
export type MemorySettings = {
  /** The memory process only ever listens on loopback (see docs/architecture.md). */
  baseUrl: string;
  port: number;
  autostart: boolean;
  pythonCommand: string;
  managerScript: string;
  groupIdOverride: string | undefined;
  recallMaxChars: number;
  recallTimeoutMs: number;
  /** The Datadog agent's DogStatsD, where a recall that timed out is counted; undefined: nothing is sent. */
  metrics: DogStatsdTarget | undefined;
  recallLimit: number;
  spoolDir: string;
  spoolMaxEpisodes: number;
  episodeMaxChars: number;
  healthIntervalMs: number;
  startupGraceMs: number;
  restartBackoffMaxMs: number;
  requestTimeoutMs: number;
};

type Env = Record<string, string | undefined>;

function positiveInt(value: string | undefined, fallback: number): number {
  const parsed = Number.parseInt(value ?? "", 10);
  return Number.isFinite(parsed) && parsed > 0 ? parsed : fallback;
}

function flag(value: string | undefined, fallback: boolean): boolean {
  if (value === undefined || value === "") return fallback;
  return !["0", "false", "no", "off"].includes(value.toLowerCase());
}

/** The image's venv first: it has graphiti-core and ddtrace; python3 is the fallback for a bare host. */
export function choosePython(env: Env, exists: (file: string) => boolean = existsSync): string {
  if (env.MEMORY_PYTHON) return env.MEMORY_PYTHON;
  return exists("/opt/venv/bin/python") ? "/opt/venv/bin/python" : "python3";
}

export function readSettings(pluginDir: string, env: Env = process.env): MemorySettings {
  const port = positiveInt(env.MEMORY_PORT, 8765);
  const dataHome = env.XDG_DATA_HOME || path.join(env.HOME || homedir(), ".local", "share");
  return {
    baseUrl: `http://127.0.0.1:${port}`,
    port,
    autostart: flag(env.MEMORY_AUTOSTART, true),
    pythonCommand: choosePython(env),
    managerScript: env.MEMORY_MANAGER_SCRIPT || path.resolve(pluginDir, "..", "graphiti", "memory_manager.py"),
    groupIdOverride: env.MEMORY_GROUP_ID || undefined,
    recallMaxChars: positiveInt(env.MEMORY_RECALL_MAX_CHARS, 2000),
    recallTimeoutMs: positiveInt(env.MEMORY_RECALL_TIMEOUT_MS, 300),
    metrics: dogstatsdTarget(env),
    recallLimit: positiveInt(env.MEMORY_RECALL_LIMIT, 8),
    spoolDir: env.MEMORY_SPOOL_DIR || path.join(dataHome, "opencode-memory", "spool"),
    spoolMaxEpisodes: positiveInt(env.MEMORY_SPOOL_MAX_EPISODES, 1000),
    episodeMaxChars: positiveInt(env.MEMORY_EPISODE_MAX_CHARS, 20000),
    healthIntervalMs: positiveInt(env.MEMORY_HEALTH_INTERVAL_MS, 5000),
    startupGraceMs: positiveInt(env.MEMORY_STARTUP_GRACE_MS, 180000),
    restartBackoffMaxMs: positiveInt(env.MEMORY_RESTART_BACKOFF_MAX_MS, 60000),
    requestTimeoutMs: positiveInt(env.MEMORY_REQUEST_TIMEOUT_MS, 10000),
  };
}
