import { createHmac, randomBytes, timingSafeEqual } from "node:crypto";
import { lstatSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";

/**
 * The memory API's shared secret (graphiti/opencode_memory/api_token.py is the other half). The plugin makes a
 * fresh one each time OpenCode starts and hands it to the memory process in MEMORY_API_TOKEN (its environment, never
 * its command line). A memory process that another OpenCode started has its own token, which it publishes in a
 * private runtime file; the plugin falls back to that file when its own token is refused.
 */
export const API_TOKEN_ENV = "MEMORY_API_TOKEN";

type Env = Record<string, string | undefined>;

export function newApiToken(): string {
  return randomBytes(32).toString("base64url");
}

/** Same rule as api_token.runtime_dir: $XDG_RUNTIME_DIR/opencode-memory, else /tmp/opencode-memory-<uid>. */
export function tokenFilePath(port: number, env: Env = process.env): string {
  const xdg = env.XDG_RUNTIME_DIR;
  let dir = path.join(tmpdir(), `opencode-memory-${process.getuid?.() ?? 0}`);
  if (xdg && path.isAbsolute(xdg)) {
    try {
      if (lstatSync(xdg).isDirectory()) dir = path.join(xdg, "opencode-memory");
    } catch {
      // no such runtime dir: /tmp it is
    }
  }
  return path.join(dir, `api-token-${port}`);
}

function isPrivate(file: string): boolean {
  const info = lstatSync(file);
  return !info.isSymbolicLink() && info.uid === process.getuid?.() && (info.mode & 0o077) === 0;
}

/** The published token, or undefined when the file is missing or others could have read or written it. */
export function readPublishedToken(port: number, env: Env = process.env): string | undefined {
  const file = tokenFilePath(port, env);
  try {
    if (!isPrivate(path.dirname(file)) || !isPrivate(file)) return undefined;
    return readFileSync(file, "ascii").trim() || undefined;
  } catch {
    return undefined;
  }
}

/**
 * The answer only a holder of `token` can give to `nonce` (graphiti/opencode_memory/api_token.py, proof): HMAC-SHA256
 * keyed with the token over a label and the nonce.
 */
export function proofFor(token: string, nonce: string): string {
  return createHmac("sha256", token).update(`opencode-memory-proof\n${nonce}`).digest("hex");
}

export function newNonce(): string {
  return randomBytes(16).toString("hex");
}

/** Whether `answer` is the proof for `nonce` under `token`, compared in constant time. */
export function provesToken(answer: unknown, token: string, nonce: string): boolean {
  if (typeof answer !== "string") return false;
  const expected = Buffer.from(proofFor(token, nonce));
  const given = Buffer.from(answer);
  return given.length === expected.length && timingSafeEqual(given, expected);
}

/** What the client sends: its own token first; `refresh` rereads the published one after a 401. */
export class ApiCredentials {
  private current: string;

  constructor(
    readonly ownToken: string,
    private readonly readPublished: () => string | undefined = () => undefined,
  ) {
    this.current = ownToken;
  }

  get token(): string {
    return this.current;
  }

  /** True when a different token is now in use (worth one retry). */
  refresh(): boolean {
    const published = this.readPublished();
    const next = published ?? this.ownToken;
    if (next === this.current) return false;
    this.current = next;
    return true;
  }
}
