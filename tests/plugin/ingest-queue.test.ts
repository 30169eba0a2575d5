import assert from "node:assert/strict";
import { mkdtemp, readdir, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { after, before, test } from "node:test";
import { EpisodeSpool } from "../../plugin/lib/episode-spool.ts";
import { IngestQueue } from "../../plugin/lib/ingest-queue.ts";
import { MemoryClient, type EpisodeRequest } from "../../plugin/lib/memory-client.ts";
import type { Logger } from "../../plugin/lib/warn.ts";
import { ContractMemoryServer, waitFor } from "./support/contract-memory-server.ts";
import { unusedLoopbackPort } from "../support/loopback-port.ts";

let workDir: string;
before(async () => {
  workDir = await mkdtemp(path.join(tmpdir(), "memory-queue-"));
});
after(async () => {
  await rm(workDir, { recursive: true, force: true });
});

const episode = (content: string): EpisodeRequest => ({
  project_dir: "/srv/app",
  name: `episode ${content}`,
  content,
  source: "message",
  source_description: "test",
});

function recordingLogger(): Logger & { warnings: string[] } {
  const warnings: string[] = [];
  return { warnings, warn: (_key, message) => warnings.push(message), info: () => {} };
}

function queueFor(baseUrl: string, spoolDir: string, logger: Logger, maxEpisodes = 100): IngestQueue {
  return new IngestQueue({
    client: new MemoryClient(baseUrl),
    spool: new EpisodeSpool(spoolDir),
    logger,
    maxEpisodes,
    requestTimeoutMs: 2000,
    retryBaseMs: 50,
    retryMaxMs: 200,
  });
}

const spoolFiles = async (dir: string) => (await readdir(dir).catch(() => [])).filter((name) => name.endsWith(".json"));

test("episodes are posted in order and removed from the spool once accepted", async () => {
  const server = await new ContractMemoryServer().start();
  const spoolDir = path.join(workDir, "in-order");
  const queue = queueFor(server.url, spoolDir, recordingLogger());
  try {
    queue.enqueue(episode("one"));
    queue.enqueue(episode("two"));
    queue.enqueue(episode("three"));
    assert.equal(await queue.drained(5000), true);
    assert.deepEqual(server.episodes().map((body) => body.content), ["one", "two", "three"]);
    await waitFor(async () => (await spoolFiles(spoolDir)).length === 0, 5000, "spool emptied");
  } finally {
    queue.stop();
    await server.stop();
  }
});

test("an outage keeps every episode on disk and sends them once the memory process is back", async () => {
  const port = await unusedLoopbackPort();
  const spoolDir = path.join(workDir, "outage");
  const logger = recordingLogger();
  const queue = queueFor(`http://127.0.0.1:${port}`, spoolDir, logger);
  let server: ContractMemoryServer | undefined;
  try {
    queue.enqueue(episode("during outage 1"));
    queue.enqueue(episode("during outage 2"));
    await waitFor(async () => (await spoolFiles(spoolDir)).length === 2, 5000, "both episodes spooled");
    await waitFor(() => logger.warnings.length > 0, 5000, "an outage warning");
    assert.equal(queue.pending, 2);

    server = await new ContractMemoryServer().start(port);
    assert.equal(await queue.drained(10_000), true, "queue drained after the memory process came back");
    assert.deepEqual(server.episodes().map((body) => body.content), ["during outage 1", "during outage 2"]);
    await waitFor(async () => (await spoolFiles(spoolDir)).length === 0, 5000, "spool emptied");
  } finally {
    queue.stop();
    await server?.stop();
  }
});

test("a restart of OpenCode replays the spool left by the previous process, oldest first", async () => {
  const port = await unusedLoopbackPort();
  const spoolDir = path.join(workDir, "restart");
  const firstProcess = queueFor(`http://127.0.0.1:${port}`, spoolDir, recordingLogger());
  firstProcess.enqueue(episode("before restart A"));
  firstProcess.enqueue(episode("before restart B"));
  await waitFor(async () => (await spoolFiles(spoolDir)).length === 2, 5000, "episodes spooled");
  firstProcess.stop();
  await writeFile(path.join(spoolDir, "garbage.json"), "{not json");

  const server = await new ContractMemoryServer().start(port);
  const secondProcess = queueFor(server.url, spoolDir, recordingLogger());
  try {
    await secondProcess.restoreFromSpool();
    secondProcess.enqueue(episode("after restart"));
    assert.equal(await secondProcess.drained(10_000), true);
    assert.deepEqual(server.episodes().map((body) => body.content), ["before restart A", "before restart B", "after restart"]);
  } finally {
    secondProcess.stop();
    await server.stop();
  }
});

test("a rejected episode (HTTP 400) is dropped and does not block the ones behind it", async () => {
  const server = await new ContractMemoryServer().start();
  server.script("POST /episodes", { status: 400, body: { error: "bad episode" } });
  const logger = recordingLogger();
  const queue = queueFor(server.url, path.join(workDir, "rejected"), logger);
  try {
    queue.enqueue(episode("poisoned"));
    queue.enqueue(episode("fine"));
    assert.equal(await queue.drained(5000), true);
    assert.deepEqual(server.episodes().map((body) => body.content), ["poisoned", "fine"]);
    assert.ok(logger.warnings.some((warning) => warning.includes("rejected")));
  } finally {
    queue.stop();
    await server.stop();
  }
});

test("a 503 is retried, not dropped", async () => {
  const server = await new ContractMemoryServer().start();
  server.script("POST /episodes", { status: 503, body: { error: "valkey down" } }, { status: 503, body: {} });
  const queue = queueFor(server.url, path.join(workDir, "retry"), recordingLogger());
  try {
    queue.enqueue(episode("eventually"));
    assert.equal(await queue.drained(10_000), true);
    assert.deepEqual(server.episodes().map((body) => body.content), ["eventually", "eventually", "eventually"]);
  } finally {
    queue.stop();
    await server.stop();
  }
});

test("the spool is bounded: beyond the limit the oldest episodes are dropped, with a warning", async () => {
  const port = await unusedLoopbackPort();
  const spoolDir = path.join(workDir, "bounded");
  const logger = recordingLogger();
  const queue = queueFor(`http://127.0.0.1:${port}`, spoolDir, logger, 3);
  try {
    for (let index = 1; index <= 6; index++) queue.enqueue(episode(`e${index}`));
    assert.equal(queue.pending, 3);
    await waitFor(async () => (await spoolFiles(spoolDir)).length === 3, 5000, "spool trimmed to 3 files");
    assert.ok(logger.warnings.some((warning) => warning.includes("full")));
    const server = await new ContractMemoryServer().start(port);
    try {
      assert.equal(await queue.drained(10_000), true);
      assert.deepEqual(server.episodes().map((body) => body.content), ["e4", "e5", "e6"]);
    } finally {
      await server.stop();
    }
  } finally {
    queue.stop();
  }
});

test("an episode whose answer was lost is resent under the same idempotency key, also after a restart of OpenCode", async () => {
  const server = await new ContractMemoryServer().start();
  // Accepted but answered too late (as when Valkey restarts after the XADD): the client gives up and must resend.
  server.script("POST /episodes", { status: 202, body: { queued: "1-0" }, delayMs: 3000 }, { status: 202, body: { queued: "2-0" }, delayMs: 3000 });
  const spoolDir = path.join(workDir, "lost-answer");
  const firstProcess = queueFor(server.url, spoolDir, recordingLogger());
  let secondProcess: IngestQueue | undefined;
  try {
    firstProcess.enqueue(episode("answer lost"));
    await waitFor(() => server.episodes().length >= 2, 10_000, "the episode sent twice by the first process");
    firstProcess.stop();

    secondProcess = queueFor(server.url, spoolDir, recordingLogger());
    await secondProcess.restoreFromSpool();
    assert.equal(await secondProcess.drained(10_000), true);
    const keys = server.episodes().map((body) => body.idempotency_key);
    assert.ok(keys.length >= 3, `sent ${keys.length} times`);
    assert.match(keys[0], /^\d{15}-\d{6}-[0-9a-f]{8}$/);
    assert.deepEqual(new Set(keys), new Set([keys[0]]), "every send of one episode carries one key");
  } finally {
    firstProcess.stop();
    secondProcess?.stop();
    await server.stop();
  }
});

test("two episodes with the same content get different idempotency keys", async () => {
  const server = await new ContractMemoryServer().start();
  const queue = queueFor(server.url, path.join(workDir, "distinct-keys"), recordingLogger());
  try {
    queue.enqueue(episode("same words"));
    queue.enqueue(episode("same words"));
    assert.equal(await queue.drained(5000), true);
    const [first, second] = server.episodes().map((body) => body.idempotency_key);
    assert.ok(first && second && first !== second, `keys ${first} and ${second}`);
  } finally {
    queue.stop();
    await server.stop();
  }
});
