import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdir, mkdtemp, readdir, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { after, before, describe, test } from "node:test";
import { promisify } from "node:util";
import { readPublishedToken } from "../../plugin/lib/api-token.ts";
import { unusedLoopbackPort } from "../support/loopback-port.ts";
import {
  opencodeLog,
  prepareOpencodeHome,
  redisCli,
  REPO_ROOT,
  startFalkorDB,
  startOpencode,
  startOpenAIDouble,
  startRedis,
  memoryProcessEnv,
  type OpencodeServer,
} from "./support/e2e-stack.ts";
import { waitUntil, type TestProcess } from "./support/processes.ts";

/**
 * The real `opencode serve` (1.18.33) loading plugin/ from ~/.opencode/plugin, starting the real
 * memory manager (graphiti/) on a real FalkorDB and a real Redis (the Valkey queue). The only double
 * is the LLM and embedder: the local OpenAI-compatible server in tests/doubles.
 */
const run = promisify(execFile);

const started: Array<{ process: TestProcess } | OpencodeServer> = [];
let workDir: string;
let llm: Awaited<ReturnType<typeof startOpenAIDouble>>;
let falkordb: Awaited<ReturnType<typeof startFalkorDB>>;
let redis: Awaited<ReturnType<typeof startRedis>>;
let home: string;
let project: string;

function jsonPost(url: string, body: unknown, timeoutMs: number, headers: Record<string, string> = {}): Promise<Response> {
  return fetch(url, {
    method: "POST",
    headers: { "content-type": "application/json", ...headers },
    body: JSON.stringify(body),
    signal: AbortSignal.timeout(timeoutMs),
  });
}

/** One user turn through OpenCode's HTTP API; the synchronous route answers once the assistant is done. */
async function chatTurn(server: OpencodeServer, text: string): Promise<{ sessionID: string; reply: any }> {
  const query = `directory=${encodeURIComponent(project)}`;
  const session = await (await jsonPost(`${server.url}/session?${query}`, {}, 10_000)).json();
  const response = await jsonPost(`${server.url}/session/${session.id}/message?${query}`, { parts: [{ type: "text", text }] }, 120_000);
  assert.equal(response.status, 200, `chat turn failed: ${await response.clone().text()}`);
  return { sessionID: session.id, reply: await response.json() };
}

function assistantText(reply: any): string {
  return (reply.parts ?? []).filter((part: any) => part.type === "text").map((part: any) => part.text).join("\n");
}

/** Where the memory process publishes its API token (the plugin made it; the test reads it like the CLI does). */
const runtimeDir = () => path.join(workDir, "xdg-runtime");

function memoryAuth(memoryPort: number): Record<string, string> {
  const token = readPublishedToken(memoryPort, { XDG_RUNTIME_DIR: runtimeDir() });
  return token ? { authorization: `Bearer ${token}` } : {};
}

function memoryEnv(memoryPort: number, extra: Record<string, string> = {}): Record<string, string> {
  return {
    XDG_RUNTIME_DIR: runtimeDir(),
    ...memoryProcessEnv({ memory: memoryPort, falkordb: falkordb.port, valkey: redis.port }),
    OPENAI_BASE_URL: llm.baseUrl,
    GRAPHITI_LLM_MODEL: "double-chat",
    GRAPHITI_SMALL_LLM_MODEL: "double-small",
    GRAPHITI_EMBEDDING_MODEL: "double-embedding",
    GRAPHITI_EMBEDDING_DIM: "256",
    ...extra,
  };
}

async function memorySearch(memoryPort: number, query: string): Promise<any> {
  const response = await jsonPost(`http://127.0.0.1:${memoryPort}/search`, { project_dir: project, query, limit: 10 }, 10_000, memoryAuth(memoryPort));
  return response.ok ? response.json() : undefined;
}

/** Episode contents stored in FalkorDB, read with GRAPH.QUERY from every graph (one per group). */
async function episodesInFalkorDB(): Promise<string[]> {
  const graphs = (await redisCli(falkordb.port, "GRAPH.LIST")).split("\n").filter(Boolean);
  const contents: string[] = [];
  for (const graph of graphs) {
    const answer = await redisCli(falkordb.port, "GRAPH.QUERY", graph, "MATCH (e:Episodic) RETURN e.content").catch(() => "");
    contents.push(answer);
  }
  return contents;
}

/** The pid listening on the memory port, found through /proc (the manager does not report its pid). */
async function memoryProcessPid(port: number): Promise<number> {
  const { stdout } = await run("ss", ["-Hltnp", `sport = :${port}`], { timeout: 5000 });
  const match = /pid=(\d+)/.exec(stdout);
  assert.ok(match, `no process listens on ${port}: ${stdout}`);
  return Number(match[1]);
}

async function parentPid(pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, "utf8");
  return Number(/^PPid:\s+(\d+)/m.exec(status)?.[1]);
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function stopAll(servers: Array<{ process: TestProcess }>): Promise<void> {
  for (const server of servers.reverse()) await server.process.stop();
}

describe("OpenCode server with the graphiti memory plugin (LLM and embedder: local OpenAI-compatible server double)", () => {
  before(async () => {
    workDir = await mkdtemp(path.join(tmpdir(), "opencode-e2e-"));
    await mkdir(runtimeDir(), { mode: 0o700 });
    llm = await startOpenAIDouble(workDir);
    started.push(llm);
    falkordb = await startFalkorDB(workDir);
    started.push(falkordb);
    redis = await startRedis(workDir);
    started.push(redis);
    ({ home, project } = await prepareOpencodeHome(workDir, llm.baseUrl));
  });

  after(async () => {
    await stopAll(started);
    if (process.env.KEEP_E2E_WORKDIR) console.log(`e2e work dir kept: ${workDir}`);
    else await rm(workDir, { recursive: true, force: true });
  });

  test("fail open: with the memory process unable to start, a chat turn completes and its episode is spooled", async () => {
    const memoryPort = await unusedLoopbackPort();
    const opencode = await startOpencode(workDir, home, project, memoryEnv(memoryPort, { MEMORY_PYTHON: path.join(workDir, "no-such-python") }));
    started.push(opencode);
    try {
      const { reply } = await chatTurn(opencode, "Vega stores its sessions in Redis.");
      assert.equal(assistantText(reply), "Double reply: Vega stores its sessions in Redis.");
      assert.equal(reply.info.error, undefined);
      const spoolDir = path.join(home, ".local", "share", "opencode-memory", "spool");
      await waitUntil("the turn's episode in the spool", async () => ((await readdir(spoolDir).catch(() => [])).some((name) => name.endsWith(".json")) ? true : undefined), 20_000);
      // OpenCode found the preinstalled dependencies and left them alone (the image starts offline).
      const pluginPackage = await readFile(path.join(REPO_ROOT, "plugin", "package.json"), "utf8");
      for (const dir of [path.join(home, ".opencode"), path.join(home, ".config", "opencode")]) {
        assert.equal(await readFile(path.join(dir, "package.json"), "utf8"), pluginPackage, `${dir}/package.json was rewritten`);
      }
      const log = await opencodeLog(opencode);
      assert.match(log, /\[graphiti-memory\] warning: cannot start the memory process: .*no-such-python does not exist/);
    } finally {
      await opencode.process.stop();
    }
  });

  test("starts the memory process, stores the turn (and the one spooled during the outage) in FalkorDB, recalls it into a new session's model request, lists the memory tools", async () => {
    const memoryPort = await unusedLoopbackPort();
    const opencode = await startOpencode(workDir, home, project, memoryEnv(memoryPort));
    started.push(opencode);
    try {
      const toolIds = await (await fetch(`${opencode.url}/experimental/tool/ids?directory=${encodeURIComponent(project)}`)).json();
      for (const name of ["memory_search", "memory_add", "memory_forget"]) assert.ok(toolIds.includes(name), `${name} missing from ${toolIds}`);

      const { reply } = await chatTurn(opencode, "Orion uses Postgres as its primary database.");
      assert.match(assistantText(reply), /^Double reply: Orion uses Postgres/);

      // The plugin started the memory process itself (nothing else listens on memoryPort).
      await waitUntil("the memory process started by the plugin", async () => {
        const response = await fetch(`http://127.0.0.1:${memoryPort}/health`, { headers: memoryAuth(memoryPort), signal: AbortSignal.timeout(2000) }).catch(() => undefined);
        return response?.ok ? true : undefined;
      }, 120_000, opencode.process);
      // A neighbour on the loopback without the plugin's token is refused and learns nothing.
      const anonymous = await jsonPost(`http://127.0.0.1:${memoryPort}/search`, { project_dir: project, query: "Orion", limit: 10 }, 10_000);
      assert.equal(anonymous.status, 401);
      assert.deepEqual(await anonymous.json(), { error: "unauthorized" });

      // After idle the turn is an episode in FalkorDB, and so is the turn spooled while memory was down.
      await waitUntil("both episodes in FalkorDB", async () => {
        const stored = (await episodesInFalkorDB()).join("\n");
        return stored.includes("Orion uses Postgres as its primary database.") && stored.includes("Vega stores its sessions in Redis.") ? true : undefined;
      }, 180_000, opencode.process);
      const spoolDir = path.join(home, ".local", "share", "opencode-memory", "spool");
      await waitUntil("the spool to empty", async () => ((await readdir(spoolDir).catch(() => [])).length === 0 ? true : undefined), 20_000);

      await waitUntil("a searchable fact about Orion", async () => {
        const answer = await memorySearch(memoryPort, "Which database does Orion use?");
        return answer?.facts?.some((fact: any) => /Orion/.test(fact.fact) && /Postgres/.test(fact.fact)) ? true : undefined;
      }, 180_000, opencode.process);

      await fetch(`http://127.0.0.1:${llm.port}/_requests`, { method: "DELETE" });
      const second = await chatTurn(opencode, "Which database does Orion use?");
      assert.match(assistantText(second.reply), /^Double reply: Which database does Orion use\?/);
      const modelRequests = (await llm.requests()).filter((request) => request.path.endsWith("/chat/completions"));
      const conversationRequest = modelRequests.find((request) => JSON.stringify(request.body.messages).includes("Which database does Orion use?") && !JSON.stringify(request.body.messages).includes("title generator"));
      assert.ok(conversationRequest, "OpenCode's model request for the new session was not recorded");
      const sent = JSON.stringify(conversationRequest.body.messages);
      assert.match(sent, /<long-term-memory>/);
      assert.match(sent, /Orion[^"]*Postgres/);
      // OpenCode alone is stopped (not its process group): the plugin must take its child down with it.
      const memoryPid = await memoryProcessPid(memoryPort);
      assert.equal(await parentPid(memoryPid), opencode.process.child.pid, "the memory process is not OpenCode's child");
      process.kill(opencode.process.child.pid!, "SIGTERM");
      await waitUntil("OpenCode to exit", async () => (opencode.process.running ? undefined : true), 30_000);
      await waitUntil("the memory process to exit with OpenCode", async () => (processAlive(memoryPid) ? undefined : true), 30_000);
    } catch (error) {
      console.error((await opencodeLog(opencode)).split("\n").slice(-80).join("\n"));
      throw error;
    } finally {
      await opencode.process.stop();
    }
  });
});
