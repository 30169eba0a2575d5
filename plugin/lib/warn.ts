/**
 * Warnings that cannot flood OpenCode's log: a memory outage would otherwise log once per turn,
 * per event and per retry. Each key speaks at most once per interval.
 */
export type Logger = {
  warn(key: string, message: string): void;
  info(message: string): void;
};

export function createRateLimitedLogger(
  intervalMs = 60_000,
  sink: (line: string) => void = (line) => console.warn(line),
  now: () => number = Date.now,
): Logger {
  const lastSpoke = new Map<string, number>();
  return {
    warn(key, message) {
      const previous = lastSpoke.get(key);
      const time = now();
      if (previous !== undefined && time - previous < intervalMs) return;
      lastSpoke.set(key, time);
      sink(`[graphiti-memory] warning: ${message}`);
    },
    info(message) {
      sink(`[graphiti-memory] ${message}`);
    },
  };
}

export function describeError(error: unknown): string {
  if (error instanceof Error) {
    const cause = (error as Error & { cause?: unknown }).cause;
    return cause instanceof Error ? `${error.message} (${cause.message})` : error.message;
  }
  return String(error);
}
