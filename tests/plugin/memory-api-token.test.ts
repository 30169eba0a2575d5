import assert from "node:assert/strict";
import { chmod, mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { after, before, test } from "node:test";
import { ApiCredentials, newApiToken, readPublishedToken, tokenFilePath } from "../../plugin/lib/api-token.ts";
import { MemoryClient, MemoryRequestError } from "../../plugin/lib/memory-client.ts";
import { createMemoryRuntime } from "../../plugin/lib/memory-runtime.ts";
import { readSettings } from "../../plugin/lib/settings.ts";
import type { Logger } from "../../plugin/lib/warn.ts";
import { ContractMemoryServer, waitFor } from "./support/contract-memory-server.ts";
import { unusedLoopbackPort } from "../support/loopback-port.ts";

/** Issue 10, item 4: the plugin makes a token per start, hands it to its child in the environment, sends it on
 * every request, and falls back to the published token of a memory process another OpenCode started. */

let workDir: string;
before(async () => {
  workDir = await mkdtemp(path.join(tmpdir(), "memory-api-token-"));
});
after(async () => {
  await rm(workDir, { recursive: true, force: true });
});

const quietLogger: Logger = { warn: () => undefined, info: () => undefined };

test("every request carries the bearer token; without it the process answers 401, which is not retryable", async () => {
  const server = await new ContractMemoryServer().start();
  const token = newApiToken();
  server.requiredToken = token;
  try {
    const client = new MemoryClient(server.url, new ApiCredentials(token));
    assert.equal((await client.health(1000))?.status, "ok");
    await client.search({ group_id: "g" }, "q", 3, 1000);
    const authenticated = server.requests.filter((request) => request.path !== "/proof");
    assert.ok(authenticated.length >= 2 && authenticated.every((request) => request.authorization === `Bearer ${token}`));
    assert.ok(server.requests.filter((request) => request.path === "/proof").every((request) => request.authorization === undefined));

    const anonymous = new MemoryClient(server.url);
    assert.equal(await anonymous.health(1000), undefined);
    await assert.rejects(anonymous.search({ group_id: "g" }, "q", 3, 1000), (error: MemoryRequestError) => {
      assert.equal(error.status, 401);
      assert.equal(error.retryable, false);
      return true;
    });
    // A client whose token the process cannot prove it holds sends it nothing at all.
    const wrongToken = newApiToken();
    const wrong = new MemoryClient(server.url, new ApiCredentials(wrongToken));
    await assert.rejects(wrong.search({ group_id: "g" }, "q", 3, 1000), /cannot prove it holds the memory API token/);
    assert.ok(!server.requests.some((request) => request.authorization === `Bearer ${wrongToken}`));
  } finally {
    await server.stop();
  }
});

test("after a 401 the client rereads the published token once and retries with it", async () => {
  const server = await new ContractMemoryServer().start();
  const theirs = newApiToken();
  server.requiredToken = theirs;
  let reads = 0;
  try {
    const credentials = new ApiCredentials(newApiToken(), () => {
      reads++;
      return theirs;
    });
    const client = new MemoryClient(server.url, credentials);
    await client.search({ group_id: "g" }, "q", 3, 1000);
    assert.equal(reads, 1);
    assert.deepEqual(server.requests.map((request) => request.authorization === `Bearer ${theirs}`), [false, true]);
    await client.search({ group_id: "g" }, "q", 3, 1000);
    assert.equal(reads, 1, "a working token is kept");
  } finally {
    await server.stop();
  }
});

test("the published token is read only from a private file of this user", async () => {
  const runtime = path.join(workDir, "runtime");
  await mkdir(runtime, { mode: 0o700 });
  const env = { XDG_RUNTIME_DIR: runtime };
  const file = tokenFilePath(4242, env);
  assert.equal(file, path.join(runtime, "opencode-memory", "api-token-4242"));
  await mkdir(path.dirname(file), { mode: 0o700 });
  await writeFile(file, "published-token\n", { mode: 0o600 });
  assert.equal(readPublishedToken(4242, env), "published-token");
  await chmod(file, 0o644);
  assert.equal(readPublishedToken(4242, env), undefined);
  await chmod(file, 0o600);
  await chmod(path.dirname(file), 0o755);
  assert.equal(readPublishedToken(4242, env), undefined);
  assert.equal(tokenFilePath(4242, {}), path.join(tmpdir(), `opencode-memory-${process.getuid!()}`, "api-token-4242"));
});

/** A stand-in memory process that, like the real one, demands the token it was handed in MEMORY_API_TOKEN. */
const TOKEN_CHECKING_MANAGER = `
import hashlib, hmac, json, os, sys
from http.server import BaseHTTPRequestHandler, HTTPServer
from urllib.parse import parse_qs, urlsplit
token = os.environ.get("MEMORY_API_TOKEN", "")
open(os.environ["REPORT_FILE"], "w").write(json.dumps({"argv": sys.argv, "has_token": len(token) >= 32}))
class Health(BaseHTTPRequestHandler):
    def do_GET(self):
        url = urlsplit(self.path)
        if url.path == "/proof":
            nonce = parse_qs(url.query).get("nonce", [""])[0]
            proof = hmac.new(token.encode(), b"opencode-memory-proof\\n" + nonce.encode(), hashlib.sha256).hexdigest()
            self.send_response(200); self.send_header("content-type", "application/json"); self.end_headers()
            self.wfile.write(json.dumps({"proof": proof}).encode())
            return
        ok = token and self.headers.get("Authorization") == "Bearer " + token
        self.send_response(200 if ok else 401); self.send_header("content-type", "application/json"); self.end_headers()
        self.wfile.write(json.dumps({"status": "ok"} if ok else {"error": "unauthorized"}).encode())
    def log_message(self, *args): pass
HTTPServer(("127.0.0.1", int(os.environ["MEMORY_PORT"])), Health).serve_forever()
`;

test("the runtime hands its child a fresh token in the environment, never in argv, and the supervisor authenticates", async () => {
  const script = path.join(workDir, "memory_manager.py");
  await writeFile(script, TOKEN_CHECKING_MANAGER);
  const reportFile = path.join(workDir, "report.json");
  const port = await unusedLoopbackPort();
  const saved = { ...process.env };
  Object.assign(process.env, { MEMORY_PORT: String(port), REPORT_FILE: reportFile });
  const settings = readSettings(workDir, { MEMORY_PORT: String(port), MEMORY_PYTHON: "python3", MEMORY_MANAGER_SCRIPT: script, MEMORY_HEALTH_INTERVAL_MS: "100" });
  const runtime = createMemoryRuntime(settings, quietLogger);
  const other = createMemoryRuntime(settings, quietLogger);
  try {
    runtime.supervisor.start();
    await waitFor(() => runtime.supervisor.healthy, 20_000, "the child to answer the supervisor's authenticated probe");
    const report = JSON.parse(await readFile(reportFile, "utf8"));
    assert.equal(report.has_token, true);
    assert.equal(report.argv.join(" ").includes("MEMORY_API_TOKEN"), false);
    assert.equal(process.env.MEMORY_API_TOKEN, undefined, "OpenCode's own environment (and so its tools') never holds the token");
    assert.equal(await other.client.health(1000), undefined, "another start's token is a different token");
  } finally {
    await runtime.supervisor.stop();
    process.env = saved;
  }
});

test("a stranger on the memory port gets no token, no episode and no query, and its answers are never recall (issue 17, part 3)", async () => {
  const impostor = await new ContractMemoryServer().start();
  impostor.impostor = true;
  impostor.facts = [{ uuid: "fake", fact: "Made-up fact from an impostor", valid_at: null, invalid_at: null }];
  try {
    const token = newApiToken();
    const client = new MemoryClient(impostor.url, new ApiCredentials(token, () => undefined));
    assert.equal(await client.health(1000), undefined, "the impostor's health answer is not believed");
    await assert.rejects(client.search({ group_id: "g" }, "my AWS key is AKIA…", 3, 1000), /cannot prove/);
    await assert.rejects(
      client.addEpisode({ group_id: "g", name: "turn", content: "my AWS key is AKIA…", source: "message", source_description: "t" }, 1000),
      /cannot prove/,
    );
    assert.deepEqual(impostor.requests.map((request) => request.path), ["/proof", "/proof", "/proof"]);
    assert.ok(impostor.requests.every((request) => request.authorization === undefined && request.body === undefined));
  } finally {
    await impostor.stop();
  }
});
