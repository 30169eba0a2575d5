import { randomBytes } from "node:crypto";
import { tool, type Hooks, type PluginInput } from "@opencode-ai/plugin";
import type { Part } from "@opencode-ai/sdk";
import { incrementCount } from "./dogstatsd.ts";
import { MemoryRequestError } from "./memory-client.ts";
import type { MemoryRuntime } from "./memory-runtime.ts";
import { memoryScope, type MemoryScope } from "./project-scope.ts";
import { buildRecallBlock } from "./recall-block.ts";
import { SessionKinds, within, type SessionLookup } from "./session-kinds.ts";
import { conversationalText, SessionTranscripts, truncate } from "./session-transcripts.ts";
import { describeError } from "./warn.ts";

/** A recall that gave up at MEMORY_RECALL_TIMEOUT_MS: the turn went without memory (docs/datadog.md). */
const RECALL_TIMEOUTS = "opencode_server.memory.recall.timeouts";

const BASE62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
let lastPartTime = 0;
let partCounter = 0;

/**
 * A part id in OpenCode's own format ("prt_" + 12 hex of time×4096+counter + 14 base62), so the
 * recall part sorts after the user's text and passes OpenCode's part validation before it is saved.
 */
export function newPartId(now: number = Date.now()): string {
  if (now !== lastPartTime) {
    lastPartTime = now;
    partCounter = 0;
  }
  partCounter += 1;
  const stamp = (BigInt(now) * 4096n + BigInt(partCounter)).toString(16).padStart(12, "0").slice(-12);
  const random = [...randomBytes(14)].map((byte) => BASE62[byte % 62]).join("");
  return `prt_${stamp}${random}`;
}

type Location = { directory: string; worktree: string };

export type MemoryHooksOptions = {
  runtime: MemoryRuntime;
  location: Location;
  lookupSession: SessionLookup;
};

/** Turns an SDK answer into the session's parent, or undefined when OpenCode does not know it. */
export function sessionLookupFrom(client: PluginInput["client"]): SessionLookup {
  return async (sessionID) => {
    const answer = await client.session.get({ path: { id: sessionID } });
    return answer.data ? { parentID: answer.data.parentID } : undefined;
  };
}

export function createMemoryHooks({ runtime, location, lookupSession }: MemoryHooksOptions): Hooks {
  const { settings, client, logger, queue } = runtime;
  const transcripts = new SessionTranscripts(settings.episodeMaxChars);
  const kinds = new SessionKinds(lookupSession);
  const scopeOf = (where: Partial<Location> = location): MemoryScope =>
    memoryScope({ directory: where.directory || location.directory, worktree: where.worktree || location.worktree }, settings.groupIdOverride);

  /**
   * Moves a session's buffered turns into the ingest queue. The buffer is emptied synchronously so
   * turns after this point form the next episode; the (rare) session lookup happens afterwards.
   */
  function flush(sessionID: string): void {
    const episodes = transcripts.takeEpisodes(sessionID, scopeOf());
    if (episodes.length === 0) return;
    void kinds.isSubagent(sessionID).then((isSubagent) => {
      if (!isSubagent) for (const episode of episodes) queue.enqueue(episode);
    });
  }

  async function recall(sessionID: string, query: string): Promise<string | undefined> {
    const started = Date.now();
    const isSubagent = await within(kinds.isSubagent(sessionID), settings.recallTimeoutMs, false);
    if (isSubagent) return undefined;
    const remaining = settings.recallTimeoutMs - (Date.now() - started);
    if (remaining <= 0) {
      incrementCount(settings.metrics, RECALL_TIMEOUTS);
      return undefined;
    }
    try {
      const answer = await client.search(scopeOf(), truncate(query, 2000), settings.recallLimit, remaining);
      return buildRecallBlock(answer.facts, settings.recallMaxChars);
    } catch (error) {
      if (error instanceof MemoryRequestError && / timed out /.test(error.message)) incrementCount(settings.metrics, RECALL_TIMEOUTS);
      logger.warn("recall", `recall skipped: ${describeError(error)}`);
      return undefined;
    }
  }

  const hooks: Hooks = {
    // Events are only recorded here; the hook returns without waiting on any I/O.
    event: async ({ event }) => {
      try {
        switch (event.type) {
          case "session.created":
          case "session.updated":
            kinds.noteSession(event.properties.info);
            break;
          case "session.deleted":
            flush(event.properties.info.id);
            transcripts.forgetSession(event.properties.info.id);
            kinds.forget(event.properties.info.id);
            break;
          case "message.part.updated":
            if (kinds.knownSubagent(event.properties.part.sessionID) !== true) transcripts.notePart(event.properties.part);
            break;
          case "message.updated":
            if (kinds.knownSubagent(event.properties.info.sessionID) !== true) transcripts.noteMessage(event.properties.info);
            break;
          case "session.idle":
          case "session.compacted":
            flush(event.properties.sessionID);
            break;
          case "session.status":
            if (event.properties.status.type === "idle") flush(event.properties.sessionID);
            break;
        }
      } catch (error) {
        logger.warn("event", `event ${event.type} not recorded: ${describeError(error)}`);
      }
    },

    /**
     * Recall goes into the user message as a synthetic text part rather than into the system prompt:
     * OpenCode saves the part with the message, so the memory stays in that turn's history, the
     * model sees it on every later request of the session unchanged, and the system prompt (the
     * provider's cached prefix) is never rewritten. Synthetic parts are hidden in OpenCode's UIs.
     * This is the only hook that waits, and only for recall, bounded by MEMORY_RECALL_TIMEOUT_MS.
     */
    "chat.message": async (input, output) => {
      try {
        if (kinds.knownSubagent(input.sessionID) === true) return;
        const text = conversationalText(output.parts as Parameters<typeof conversationalText>[0]);
        if (!text) return;
        transcripts.addUserMessage(input.sessionID, output.message.id, text, output.message.time?.created ?? Date.now());
        const block = await recall(input.sessionID, text);
        if (!block) return;
        const recallPart = {
          id: newPartId(),
          sessionID: input.sessionID,
          messageID: output.message.id,
          type: "text",
          text: block,
          synthetic: true,
        } satisfies Part;
        output.parts.push(recallPart);
      } catch (error) {
        logger.warn("chat-message", `memory skipped for this turn: ${describeError(error)}`);
      }
    },

    // Compaction is where the older turns leave the context: make sure they are in memory first.
    "experimental.session.compacting": async (input) => {
      try {
        flush(input.sessionID);
      } catch (error) {
        logger.warn("compacting", `flush before compaction failed: ${describeError(error)}`);
      }
    },

    tool: {
      memory_search: tool({
        description:
          "Search this project's long-term memory (facts learned in earlier sessions). Returns facts with their uuids.",
        args: {
          query: tool.schema.string().min(1).describe("What to look for, in natural language"),
          limit: tool.schema.number().int().min(1).max(50).optional().describe("Maximum number of facts (default 10)"),
        },
        async execute(args, context) {
          try {
            const answer = await client.search(scopeOf(context), args.query, args.limit ?? 10, settings.requestTimeoutMs);
            const facts = answer.facts.filter((fact) => !fact.invalid_at);
            if (facts.length === 0) return "No memories found.";
            return facts.map((fact) => `- ${fact.fact} [uuid: ${fact.uuid}]`).join("\n");
          } catch (error) {
            return `Memory is unavailable right now (${describeError(error)}).`;
          }
        },
      }),
      memory_add: tool({
        description:
          "Store a fact, decision or preference in this project's long-term memory so later sessions can recall it.",
        args: {
          content: tool.schema.string().min(1).describe("The information to remember, as a self-contained statement"),
          name: tool.schema.string().optional().describe("A short title for this memory"),
        },
        async execute(args, context) {
          const episode = {
            ...scopeOf(context),
            name: args.name?.trim() || `memory added in session ${context.sessionID}`,
            content: truncate(args.content, settings.episodeMaxChars),
            source: "message" as const,
            source_description: "memory_add tool",
            reference_time: new Date().toISOString(),
            session_id: context.sessionID,
          };
          try {
            const answer = await client.addEpisode(episode, settings.requestTimeoutMs);
            return `Stored in memory (queued as ${answer.queued}); it becomes searchable once processed.`;
          } catch (error) {
            if (error instanceof MemoryRequestError && !error.retryable) return `Memory rejected this entry: ${error.message}`;
            queue.enqueue(episode);
            return "Memory is unavailable right now; the entry is kept and will be stored when it is back.";
          }
        },
      }),
      memory_forget: tool({
        description: "Remove one memory (a fact, entity or episode) by the uuid that memory_search showed.",
        args: {
          uuid: tool.schema.string().min(1).describe("The uuid of the memory to forget"),
        },
        async execute(args, context) {
          try {
            const answer = await client.forget(scopeOf(context), args.uuid, settings.requestTimeoutMs);
            return `Forgotten: ${answer.forgotten}`;
          } catch (error) {
            return `Could not forget ${args.uuid}: ${describeError(error)}`;
          }
        },
      }),
    },

    // On shutdown, whatever is still buffered goes to the spool so the next start sends it.
    dispose: async () => {
      for (const sessionID of transcripts.sessionsWithTurns()) {
        if (kinds.knownSubagent(sessionID) === true) continue;
        for (const episode of transcripts.takeEpisodes(sessionID, scopeOf())) queue.enqueue(episode);
      }
      await queue.drained(1000);
    },
  };
  return hooks;
}
