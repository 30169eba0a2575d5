import { API_TOKEN_ENV, ApiCredentials, newApiToken, readPublishedToken } from "./api-token.ts";
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
  // A fresh token per OpenCode start, handed to the child in its environment only (never OpenCode's own env,
  // which tools and shells inherit).
  const credentials = new ApiCredentials(newApiToken(), () => readPublishedToken(settings.port));
  const client = new MemoryClient(settings.baseUrl, credentials);
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
    env: { ...process.env, [API_TOKEN_ENV]: credentials.ownToken },
  });
  return { settings, client, logger, queue, supervisor };
}

/** Starts the background work; returns at once (plugin init never waits for the memory process). */
export function startMemoryRuntime(runtime: MemoryRuntime): void {
  runtime.supervisor.start();
  void runtime.queue.restoreFromSpool();
}
