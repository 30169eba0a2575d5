import { newNonce, provesToken, type ApiCredentials } from "./api-token.ts";
import type { MemoryScope } from "./project-scope.ts";

/** Body of `POST /episodes` (docs/architecture.md, memory process HTTP contract). */
export type EpisodeRequest = MemoryScope & {
  name: string;
  content: string;
  source: "message";
  source_description: string;
  reference_time?: string;
  session_id?: string;
  /** Names the episode across resends: the memory process stores one episode per (group, key). */
  idempotency_key?: string;
};

export type RecalledFact = { uuid: string; fact: string; valid_at?: string | null; invalid_at?: string | null };
export type SearchAnswer = { group_id: string; facts: RecalledFact[]; episodes: unknown[] };
export type HealthAnswer = {
  status: string;
  falkordb?: boolean;
  valkey?: boolean;
  pending?: number;
  dead_letters?: number;
};

/** Why a call did not succeed: `retryable` separates an outage (try again later) from a rejected request. */
export class MemoryRequestError extends Error {
  constructor(
    message: string,
    readonly retryable: boolean,
    readonly status?: number,
  ) {
    super(message);
    this.name = "MemoryRequestError";
  }
}

/** 408/429 and every 5xx mean "not now"; any other 4xx means this request will never be accepted. */
function isRetryableStatus(status: number): boolean {
  return status === 408 || status === 429 || status >= 500;
}

export class MemoryClient {
  /** `credentials` carry the memory API token (every route needs it); without them no Authorization is sent. */
  constructor(
    readonly baseUrl: string,
    private readonly credentials?: ApiCredentials,
  ) {}

  /**
   * Whatever listens on the memory port must first prove it holds the token (GET /proof with a fresh nonce), so a
   * process that took the port (another container, another local user, while ours restarts) gets neither the token
   * nor a session's text nor a query, and its answers are never used as recall. It costs one loopback round trip.
   */
  private async verifyListener(timeoutMs: number): Promise<void> {
    if (!this.credentials) return;
    const nonce = newNonce();
    let answer: unknown;
    try {
      const response = await fetch(`${this.baseUrl}/proof?nonce=${nonce}`, { signal: AbortSignal.timeout(timeoutMs) });
      answer = response.ok ? ((await response.json()) as { proof?: unknown }).proof : undefined;
    } catch (error) {
      const reason = error instanceof Error && error.name === "TimeoutError" ? `timed out after ${timeoutMs} ms` : "unreachable";
      throw new MemoryRequestError(`memory process ${reason} (GET /proof)`, true);
    }
    if (provesToken(answer, this.credentials.token, nonce)) return;
    // Another OpenCode's memory process holds the token it published: switch to that one if it proves it.
    if (this.credentials.refresh() && provesToken(answer, this.credentials.token, nonce)) return;
    throw new MemoryRequestError(
      "the process on the memory port cannot prove it holds the memory API token: nothing was sent to it",
      true,
    );
  }

  private async send(method: "GET" | "POST", route: string, timeoutMs: number, body?: unknown): Promise<Response> {
    await this.verifyListener(timeoutMs);
    const headers: Record<string, string> = {};
    if (body !== undefined) headers["content-type"] = "application/json";
    if (this.credentials) headers.authorization = `Bearer ${this.credentials.token}`;
    try {
      return await fetch(`${this.baseUrl}${route}`, {
        method,
        headers,
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: AbortSignal.timeout(timeoutMs),
      });
    } catch (error) {
      const reason = error instanceof Error && error.name === "TimeoutError" ? `timed out after ${timeoutMs} ms` : "unreachable";
      throw new MemoryRequestError(`memory process ${reason} (${method} ${route})`, true);
    }
  }

  private async request<T>(method: "GET" | "POST", route: string, timeoutMs: number, body?: unknown): Promise<T> {
    let response = await this.send(method, route, timeoutMs, body);
    // A memory process another OpenCode started has its own token, published in the runtime file: try that once.
    if (response.status === 401 && this.credentials?.refresh()) {
      await response.body?.cancel().catch(() => undefined);
      response = await this.send(method, route, timeoutMs, body);
    }
    const text = await response.text().catch(() => "");
    if (!response.ok) {
      throw new MemoryRequestError(
        `memory process answered ${response.status} to ${method} ${route}: ${text.slice(0, 200)}`,
        isRetryableStatus(response.status),
        response.status,
      );
    }
    try {
      return (text ? JSON.parse(text) : {}) as T;
    } catch {
      throw new MemoryRequestError(`memory process sent invalid JSON for ${method} ${route}`, true, response.status);
    }
  }

  /** Undefined when the process is down or not (yet) answering: health is a probe, never an error. */
  async health(timeoutMs: number): Promise<HealthAnswer | undefined> {
    const answer = await this.probe(timeoutMs);
    return answer?.status === "ok" ? answer : undefined;
  }

  /** The health answer whatever its status ("degraded" while FalkorDB or Valkey is away); undefined if none. */
  async probe(timeoutMs: number): Promise<HealthAnswer | undefined> {
    try {
      const answer = await this.request<HealthAnswer>("GET", "/health", timeoutMs);
      return typeof answer?.status === "string" ? answer : undefined;
    } catch {
      return undefined;
    }
  }

  addEpisode(episode: EpisodeRequest, timeoutMs: number): Promise<{ queued: string; group_id: string }> {
    return this.request("POST", "/episodes", timeoutMs, episode);
  }

  async search(scope: MemoryScope, query: string, limit: number, timeoutMs: number): Promise<SearchAnswer> {
    const answer = await this.request<Partial<SearchAnswer>>("POST", "/search", timeoutMs, { ...scope, query, limit });
    return {
      group_id: answer.group_id ?? "",
      facts: Array.isArray(answer.facts) ? answer.facts : [],
      episodes: Array.isArray(answer.episodes) ? answer.episodes : [],
    };
  }

  forget(scope: MemoryScope, uuid: string, timeoutMs: number): Promise<{ forgotten: string }> {
    return this.request("POST", "/forget", timeoutMs, { ...scope, uuid });
  }
}
