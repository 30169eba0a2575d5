import { EpisodeSpool } from "./episode-spool.ts";
import { IngestQueue } from "./ingest-queue.ts";
import { MemoryClient } from "./memory-client.ts";
import { MemoryProcessSupervisor } from "./memory-process.ts";
import type { MemorySettings } from "./settings.ts";
import { createRateLimitedLogger, type Logger } from "./warn.ts";

/**
 * What all plugin instances of one OpenCode process share: OpenCode calls the plugin once per
 * project directory it serves, but there is one memory process, one spool and one sender.
 */
export type MemoryRuntime = {
  settings: MemorySettings;
  client: MemoryClient;
  logger: Logger;
  queue: IngestQueue;
  supervisor: MemoryProcessSupervisor;
};

export function createMemoryRuntime(settings: MemorySettings, logger: Logger = createRateLimitedLogger()): MemoryRuntime {
  const client = new MemoryClient(settings.baseUrl);
  const queue = new IngestQueue({
    client,
    spool: new EpisodeSpool(settings.spoolDir),
    logger,
    maxEpisodes: settings.spoolMaxEpisodes,
    requestTimeoutMs: settings.requestTimeoutMs,
  });
  const supervisor = new MemoryProcessSupervisor({
    client,
    logger,
    command: settings.pythonCommand,
    args: [settings.managerScript, "serve"],
    autostart: settings.autostart,
    healthIntervalMs: settings.healthIntervalMs,
    startupGraceMs: settings.startupGraceMs,
    restartBackoffMaxMs: settings.restartBackoffMaxMs,
    onHealthy: () => queue.kick(),
  });
  return { settings, client, logger, queue, supervisor };
}

/** Starts the background work; returns at once (plugin init never waits for the memory process). */
export function startMemoryRuntime(runtime: MemoryRuntime): void {
  runtime.supervisor.start();
  void runtime.queue.restoreFromSpool();
}
