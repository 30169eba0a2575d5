/**
 * Chat turns through the memory plugin's hooks (`plugin/lib/memory-hooks.ts`, the code OpenCode runs) against a
 * memory manager that is already running; driven by tools/bench/scale-bench.py, which owns the servers. Prints one
 * JSON object on stdout.
 *
 *   recall:     --turns N questions, one after another, round-robin over --project-dirs; the time `chat.message`
 *               holds each turn (what recall adds), whether a memory block came back, whether recall timed out.
 *   concurrent: --sessions S sessions spread over --project-dirs, all sending turns at once for --seconds, each turn
 *               a question (recall) followed by an assistant reply and `session.idle`, so the plugin's own ingest
 *               queue sends one episode per turn. Every turn carries a unique token, so the caller can count
 *               what was stored (lost / stored twice) in FalkorDB afterwards.
 *
 * npx tsx tools/bench/scale-turns.ts --mode recall --port 8765 --project-dirs /p/a,/p/b --subjects Orion,Vega --turns 200
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { parseArgs } from "node:util";
import { createMemoryHooks, newPartId } from "../../plugin/lib/memory-hooks.ts";
import { createMemoryRuntime } from "../../plugin/lib/memory-runtime.ts";
import { readSettings } from "../../plugin/lib/settings.ts";

const { values } = parseArgs({
  options: {
    mode: { type: "string", default: "recall" },
    port: { type: "string" },
    "project-dirs": { type: "string" },
    subjects: { type: "string", default: "Orion" },
    turns: { type: "string", default: "200" },
    sessions: { type: "string", default: "20" },
    seconds: { type: "string", default: "150" },
    "turn-interval-ms": { type: "string", default: "5000" },
    "run-id": { type: "string", default: "run" },
  },
});

type Hooks = ReturnType<typeof createMemoryHooks>;
type TurnResult = { ms: number; block: boolean; timedOut: boolean; failed: boolean };

const projectDirs = String(values["project-dirs"]).split(",").filter(Boolean);
const subjects = String(values.subjects).split(",").filter(Boolean);
const QUESTIONS = [
  (subject: string) => `Which database does ${subject} use, and why?`,
  (subject: string) => `Where does ${subject} deploy to?`,
  (subject: string) => `What does ${subject} use for caching?`,
  (subject: string) => `Remind me how ${subject} stores its data.`,
];

/** Warnings the runtime logs, per turn: a recall that timed out says so ("timed out after N ms"). */
const warnings: string[] = [];
const logger = { warn: (_key: string, message: string) => void warnings.push(message), info: () => {} };

async function main(): Promise<void> {
  const spoolDir = await mkdtemp(path.join(tmpdir(), "scale-turns-"));
  const settings = readSettings("/bench/plugin", { HOME: spoolDir, MEMORY_PORT: String(values.port), MEMORY_AUTOSTART: "0", MEMORY_SPOOL_DIR: spoolDir });
  // One runtime (one client, one ingest queue) for the OpenCode process; one hooks instance per project directory,
  // as OpenCode calls the plugin once per project it serves.
  const runtime = createMemoryRuntime(settings, logger as never);
  const hooksByProject = new Map<string, Hooks>(
    projectDirs.map((dir) => [dir, createMemoryHooks({ runtime, location: { directory: dir, worktree: dir }, lookupSession: async () => ({}) })]),
  );
  try {
    const result = values.mode === "concurrent" ? await concurrent(hooksByProject) : await recall(hooksByProject);
    await runtime.queue.drained(120_000);
    console.log(JSON.stringify({ ...result, recallTimeoutMs: settings.recallTimeoutMs, queueLeft: runtime.queue.pending }));
  } finally {
    runtime.queue.stop();
    await rm(spoolDir, { recursive: true, force: true });
  }
}

async function turn(hooks: Hooks, sessionID: string, index: number, text: string): Promise<TurnResult> {
  const messageID = `msg_${sessionID}_${index}`;
  const input = { sessionID, agent: "build", messageID };
  const output = {
    message: { id: messageID, sessionID, role: "user", time: { created: Date.now() }, agent: "build", model: { providerID: "p", modelID: "m" } },
    parts: [{ id: newPartId(), sessionID, messageID, type: "text", text }],
  } as any;
  const warned = warnings.length;
  const started = process.hrtime.bigint();
  await hooks["chat.message"]!(input, output);
  const ms = Number(process.hrtime.bigint() - started) / 1e6;
  const mine = warnings.slice(warned).filter((warning) => warning.startsWith("recall skipped"));
  return { ms, block: output.parts.length > 1, timedOut: mine.some((w) => w.includes("timed out")), failed: mine.length > 0 };
}

/** The assistant's answer as OpenCode streams it, then idle: the plugin flushes the turn into its ingest queue. */
async function reply(hooks: Hooks, sessionID: string, index: number, text: string): Promise<void> {
  const info = { id: `msg_reply_${sessionID}_${index}`, sessionID, role: "assistant", time: { created: Date.now() } };
  await hooks.event!({ event: { type: "message.updated", properties: { info } } as any });
  const part = { id: newPartId(), sessionID, messageID: info.id, type: "text", text };
  await hooks.event!({ event: { type: "message.part.updated", properties: { part } } as any });
  await hooks.event!({ event: { type: "message.updated", properties: { info: { ...info, time: { created: info.time.created, completed: Date.now() } } } } as any });
  await hooks.event!({ event: { type: "session.idle", properties: { sessionID } } as any });
}

async function recall(hooksByProject: Map<string, Hooks>) {
  const turns: TurnResult[] = [];
  const total = Number(values.turns);
  for (let index = 0; index < total; index++) {
    const dir = projectDirs[index % projectDirs.length]!;
    const subject = subjects[index % subjects.length]!;
    turns.push(await turn(hooksByProject.get(dir)!, `ses_recall_${index % 7}`, index, QUESTIONS[index % QUESTIONS.length]!(subject)));
  }
  return summarise(turns);
}

async function concurrent(hooksByProject: Map<string, Hooks>) {
  const sessions = Number(values.sessions);
  const endAt = Date.now() + Number(values.seconds) * 1000;
  const interval = Number(values["turn-interval-ms"]);
  const turns: TurnResult[] = [];
  const tokens: Record<string, string[]> = {};
  const runId = String(values["run-id"]);
  async function session(number: number): Promise<void> {
    const dir = projectDirs[number % projectDirs.length]!;
    const hooks = hooksByProject.get(dir)!;
    const sessionID = `ses_${runId}_${number}`;
    // Staggered start, then a turn every `interval` (± 50 %): people do not press enter in lockstep.
    await sleep(Math.random() * interval);
    for (let index = 0; Date.now() < endAt; index++) {
      const subject = subjects[(number * 31 + index) % subjects.length]!;
      const token = `tok${runId}s${number}t${index}`;
      turns.push(await turn(hooks, sessionID, index, `${QUESTIONS[index % QUESTIONS.length]!(subject)} (ref ${token})`));
      await reply(hooks, sessionID, index, `${subject} keeps its state in Postgres and deploys to Nomad; noted as ${token}.`);
      (tokens[dir] ??= []).push(token);
      await sleep(interval * (0.5 + Math.random()));
    }
  }
  await Promise.all(Array.from({ length: sessions }, (_, number) => session(number)));
  return { ...summarise(turns), tokens };
}

function summarise(turns: TurnResult[]) {
  return {
    samplesMs: turns.map((t) => Number(t.ms.toFixed(3))),
    turns: turns.length,
    withBlock: turns.filter((t) => t.block).length,
    timedOut: turns.filter((t) => t.timedOut).length,
    failed: turns.filter((t) => t.failed).length,
    sampleWarnings: [...new Set(warnings)].slice(0, 5),
  };
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

await main();
