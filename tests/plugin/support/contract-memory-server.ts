import { chmodSync, mkdirSync, rmSync, writeFileSync } from "node:fs";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import path from "node:path";
import { newApiToken, proofFor, tokenFilePath } from "../../../plugin/lib/api-token.ts";

export type RecordedRequest = { method: string; path: string; body: any; authorization?: string };
type Reply = { status: number; body: unknown; delayMs?: number };

/**
 * A real HTTP server on a free loopback port that speaks the memory process contract
 * (docs/architecture.md) from canned answers, recording every request. Unit tests use it to drive
 * the plugin's client, queue and hooks over real sockets; the end-to-end test uses the real manager.
 */
export class ContractMemoryServer {
  readonly requests: RecordedRequest[] = [];
  facts: Array<{ uuid: string; fact: string; valid_at?: string | null; invalid_at?: string | null }> = [];
  /** Replies forced for a route ("POST /episodes"), consumed first-in first-out before the default. */
  readonly scripted = new Map<string, Reply[]>();
  /** When set, like the real process: every route answers 401 unless `Authorization: Bearer <requiredToken>`. */
  requiredToken: string | undefined;
  /**
   * The token it proves it holds on GET /proof (requiredToken when set). Like a memory process another OpenCode
   * started, it publishes it in the private runtime file, so the plugin's client finds it after its own fails.
   */
  readonly ownToken = newApiToken();
  /** A stranger on the port: it answers /proof with garbage, as it cannot know the token. */
  impostor = false;
  private server: Server | undefined;
  private publishedFile: string | undefined;
  private episodeCounter = 0;

  get url(): string {
    const address = this.server?.address() as AddressInfo;
    return `http://127.0.0.1:${address.port}`;
  }

  get port(): number {
    return (this.server?.address() as AddressInfo).port;
  }

  episodes(): any[] {
    return this.requests.filter((request) => request.path === "/episodes").map((request) => request.body);
  }

  script(route: string, ...replies: Reply[]): void {
    this.scripted.set(route, [...(this.scripted.get(route) ?? []), ...replies]);
  }

  async start(port = 0): Promise<this> {
    this.server = createServer((request, response) => void this.handle(request, response));
    await new Promise<void>((resolve, reject) => {
      this.server!.once("error", reject);
      this.server!.listen(port, "127.0.0.1", () => resolve());
    });
    const file = tokenFilePath(this.port);
    mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
    chmodSync(path.dirname(file), 0o700);
    writeFileSync(file, this.ownToken, { mode: 0o600 });
    this.publishedFile = file;
    return this;
  }

  async stop(): Promise<void> {
    const server = this.server;
    if (!server) return;
    this.server = undefined;
    if (this.publishedFile) rmSync(this.publishedFile, { force: true });
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  private async handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of request) chunks.push(chunk as Buffer);
    const raw = Buffer.concat(chunks).toString("utf8");
    const url = new URL(request.url ?? "/", "http://127.0.0.1");
    const route = `${request.method} ${url.pathname}`;
    let body: unknown = undefined;
    try {
      body = raw ? JSON.parse(raw) : undefined;
    } catch {
      body = raw;
    }
    const authorization = request.headers.authorization;
    this.requests.push({ method: request.method ?? "", path: url.pathname, body, authorization });
    if (route === "GET /proof") {
      const nonce = url.searchParams.get("nonce") ?? "";
      const proof = this.impostor ? "0".repeat(64) : proofFor(this.requiredToken ?? this.ownToken, nonce);
      response.writeHead(200, { "content-type": "application/json" });
      response.end(JSON.stringify({ proof }));
      return;
    }
    const refused = this.requiredToken !== undefined && authorization !== `Bearer ${this.requiredToken}`;
    const reply = refused
      ? { status: 401, body: { error: "unauthorized" } }
      : (this.scripted.get(route)?.shift() ?? this.defaultReply(route, body as any));
    if (reply.delayMs) await new Promise((resolve) => setTimeout(resolve, reply.delayMs));
    response.writeHead(reply.status, { "content-type": "application/json" });
    response.end(JSON.stringify(reply.body));
  }

  private defaultReply(route: string, body: any): Reply {
    const group = body?.group_id ?? "derived-group";
    switch (route) {
      case "GET /health":
        return { status: 200, body: { status: "ok", falkordb: true, valkey: true, pending: 0, dead_letters: 0 } };
      case "POST /episodes":
        return { status: 202, body: { queued: `${Date.now()}-${this.episodeCounter++}`, group_id: group } };
      case "POST /search":
        return { status: 200, body: { group_id: group, facts: this.facts.slice(0, body?.limit ?? 10), episodes: [] } };
      case "POST /forget":
        return { status: 200, body: { forgotten: body?.uuid } };
      default:
        return { status: 404, body: { error: "not found" } };
    }
  }
}

/** Polls `condition` every 20 ms until it holds or `timeoutMs` passes (then throws). */
export async function waitFor(condition: () => boolean | Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await condition()) return;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
}
