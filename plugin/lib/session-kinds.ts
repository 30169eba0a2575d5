/**
 * Which sessions are subagent sessions (they have a parentID). Their transcripts are a main session's
 * delegated work and would duplicate it in memory, so they are neither captured nor given recall.
 * Learned from session events; a session the plugin has not seen (created before the plugin loaded)
 * is looked up once through OpenCode's API.
 */
export type SessionLookup = (sessionID: string) => Promise<{ parentID?: string } | undefined>;

const REMEMBERED_SESSIONS = 5000;

export class SessionKinds {
  private readonly subagent = new Map<string, boolean>();
  private readonly lookups = new Map<string, Promise<boolean>>();

  constructor(private readonly lookup: SessionLookup) {}

  noteSession(info: { id: string; parentID?: string }): void {
    this.subagent.delete(info.id);
    this.subagent.set(info.id, Boolean(info.parentID));
    if (this.subagent.size > REMEMBERED_SESSIONS) {
      const oldest = this.subagent.keys().next().value;
      if (oldest !== undefined) this.subagent.delete(oldest);
    }
  }

  forget(sessionID: string): void {
    this.subagent.delete(sessionID);
  }

  knownSubagent(sessionID: string): boolean | undefined {
    return this.subagent.get(sessionID);
  }

  /** A failed lookup counts as a main session: losing a main session's memory is the worse error. */
  isSubagent(sessionID: string): Promise<boolean> {
    const known = this.subagent.get(sessionID);
    if (known !== undefined) return Promise.resolve(known);
    let pending = this.lookups.get(sessionID);
    if (!pending) {
      pending = this.lookup(sessionID)
        .then((info) => Boolean(info?.parentID))
        .catch(() => false)
        .then((isChild) => {
          this.lookups.delete(sessionID);
          this.noteSession({ id: sessionID, parentID: isChild ? "?" : undefined });
          return isChild;
        });
      this.lookups.set(sessionID, pending);
    }
    return pending;
  }
}

/** Settles with `fallback` when `promise` is slower than `timeoutMs`; never rejects. */
export function within<T>(promise: Promise<T>, timeoutMs: number, fallback: T): Promise<T> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(fallback), timeoutMs);
    promise.then(
      (value) => {
        clearTimeout(timer);
        resolve(value);
      },
      () => {
        clearTimeout(timer);
        resolve(fallback);
      },
    );
  });
}
