import { EpisodeSpool, nextSpoolId, type SpooledEpisode } from "./episode-spool.ts";
import { MemoryRequestError, type EpisodeRequest, type MemoryClient } from "./memory-client.ts";
import { describeError, type Logger } from "./warn.ts";

export type IngestQueueOptions = {
  client: MemoryClient;
  spool: EpisodeSpool;
  logger: Logger;
  maxEpisodes: number;
  requestTimeoutMs: number;
  retryBaseMs?: number;
  retryMaxMs?: number;
};

type QueueEntry = SpooledEpisode & { persisted: Promise<void> };

/**
 * Fire-and-forget ingestion. `enqueue` only appends to memory and starts an asynchronous spool
 * write, so no OpenCode hook ever waits for the memory process. One sender drains the queue in
 * order; an outage keeps every episode (in memory and on disk) and retries with backoff; episodes
 * the memory process rejects outright (4xx) are dropped so they cannot block the ones behind them.
 */
export class IngestQueue {
  private readonly entries: QueueEntry[] = [];
  private sending = false;
  private retryTimer: NodeJS.Timeout | undefined;
  private retryDelayMs: number;
  private readonly retryBaseMs: number;
  private readonly retryMaxMs: number;
  private restored: Promise<void> | undefined;
  private idleWaiters: Array<() => void> = [];

  constructor(private readonly options: IngestQueueOptions) {
    this.retryBaseMs = options.retryBaseMs ?? 1000;
    this.retryMaxMs = options.retryMaxMs ?? 30_000;
    this.retryDelayMs = this.retryBaseMs;
  }

  get pending(): number {
    return this.entries.length;
  }

  /** Loads what a previous OpenCode process left in the spool; ordered before anything newer. */
  restoreFromSpool(): Promise<void> {
    this.restored ??= this.options.spool
      .readAll()
      .then((saved) => {
        const known = new Set(this.entries.map((entry) => entry.id));
        const replayed = saved
          .filter((entry) => !known.has(entry.id))
          .map((entry) => ({ ...entry, persisted: Promise.resolve() }));
        this.entries.push(...replayed);
        this.entries.sort((left, right) => (left.id < right.id ? -1 : left.id > right.id ? 1 : 0));
        this.enforceBound();
        if (replayed.length > 0) this.options.logger.info(`replaying ${replayed.length} spooled episode(s)`);
        this.kick();
      })
      .catch((error) => this.options.logger.warn("spool-read", `cannot read the spool: ${describeError(error)}`));
    return this.restored;
  }

  enqueue(episode: EpisodeRequest): void {
    const id = nextSpoolId();
    const persisted = this.options.spool
      .write({ id, episode })
      .catch((error) => this.options.logger.warn("spool-write", `cannot write the spool: ${describeError(error)}`));
    this.entries.push({ id, episode, persisted });
    this.enforceBound();
    this.kick();
  }

  /** Starts sending now (e.g. when the memory process became healthy) instead of at the next retry. */
  kick(): void {
    if (this.retryTimer) {
      clearTimeout(this.retryTimer);
      this.retryTimer = undefined;
    }
    if (!this.sending) void this.sendAll();
  }

  /** Resolves once the queue is empty or the timeout passes; for shutdown and tests. */
  async drained(timeoutMs: number): Promise<boolean> {
    if (this.entries.length === 0) return true;
    return new Promise((resolve) => {
      const timer = setTimeout(() => resolve(this.entries.length === 0), timeoutMs);
      this.idleWaiters.push(() => {
        clearTimeout(timer);
        resolve(true);
      });
    });
  }

  stop(): void {
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.retryTimer = undefined;
  }

  private enforceBound(): void {
    const excess = this.entries.length - this.options.maxEpisodes;
    if (excess <= 0) return;
    const dropped = this.entries.splice(0, excess);
    for (const entry of dropped) void entry.persisted.then(() => this.options.spool.remove(entry.id)).catch(() => {});
    this.options.logger.warn("spool-full", `ingest spool is full; dropped the ${excess} oldest episode(s)`);
  }

  private async sendAll(): Promise<void> {
    this.sending = true;
    try {
      while (this.entries.length > 0) {
        const entry = this.entries[0]!;
        try {
          // The spool id outlives a lost answer and a restart of OpenCode, so a resend is stored once, not twice.
          await this.options.client.addEpisode({ ...entry.episode, idempotency_key: entry.id }, this.options.requestTimeoutMs);
        } catch (error) {
          if (error instanceof MemoryRequestError && !error.retryable) {
            this.options.logger.warn("episode-rejected", `memory process rejected an episode, dropped: ${error.message}`);
          } else {
            this.options.logger.warn("ingest-down", `memory process unavailable, ${this.entries.length} episode(s) kept for retry: ${describeError(error)}`);
            this.scheduleRetry();
            return;
          }
        }
        // The entry may already be gone if the bound dropped it while the request was in flight.
        if (this.entries[0] === entry) this.entries.shift();
        this.retryDelayMs = this.retryBaseMs;
        await entry.persisted;
        await this.options.spool.remove(entry.id).catch(() => {});
      }
      for (const wake of this.idleWaiters.splice(0)) wake();
    } finally {
      this.sending = false;
    }
  }

  private scheduleRetry(): void {
    const delay = this.retryDelayMs;
    this.retryDelayMs = Math.min(this.retryDelayMs * 2, this.retryMaxMs);
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined;
      this.kick();
    }, delay);
    // A pending retry must not keep OpenCode (or a test) alive on its own.
    this.retryTimer.unref?.();
  }
}
