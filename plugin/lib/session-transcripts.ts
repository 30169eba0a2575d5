import type { EpisodeRequest } from "./memory-client.ts";
import type { MemoryScope } from "./project-scope.ts";

export type TranscriptTurn = { role: "user" | "assistant"; messageID: string; text: string; time: number };

type AssistantDraft = { sessionID: string; parts: Map<string, string>; completed: boolean };

/** Minimal shapes of the OpenCode events the transcript needs (from @opencode-ai/sdk's Event union). */
export type MessageInfoLike = {
  id: string;
  sessionID: string;
  role: string;
  time: { created: number; completed?: number };
};
export type PartLike = {
  id: string;
  sessionID: string;
  messageID: string;
  type: string;
  text?: string;
  synthetic?: boolean;
  ignored?: boolean;
};

const RECORDED_IDS_KEPT = 10_000;
const TRUNCATION_MARK = " …[truncated]";

export function truncate(text: string, maxChars: number): string {
  if (text.length <= maxChars) return text;
  return text.slice(0, Math.max(0, maxChars - TRUNCATION_MARK.length)) + TRUNCATION_MARK;
}

/** Only what the people in the conversation wrote: synthetic parts (tool echoes, recalled memory) are noise. */
export function conversationalText(parts: readonly PartLike[]): string {
  return parts
    .filter((part) => part.type === "text" && !part.synthetic && !part.ignored && typeof part.text === "string")
    .map((part) => part.text!.trim())
    .filter((text) => text.length > 0)
    .join("\n");
}

/**
 * Per-session buffer of the turns since the last flush. User messages come from `chat.message`;
 * an assistant message is assembled from its streamed text parts and kept once it completes.
 * Each message is taken once, however many update events OpenCode sends for it.
 */
export class SessionTranscripts {
  private readonly turns = new Map<string, TranscriptTurn[]>();
  private readonly drafts = new Map<string, AssistantDraft>();
  private readonly recorded = new Set<string>();

  constructor(private readonly episodeMaxChars: number) {}

  addUserMessage(sessionID: string, messageID: string, text: string, time: number = Date.now()): void {
    this.append(sessionID, { role: "user", messageID, text, time });
  }

  notePart(part: PartLike): void {
    if (part.type !== "text" || part.synthetic || part.ignored || this.recorded.has(part.messageID)) return;
    const draft = this.drafts.get(part.messageID) ?? { sessionID: part.sessionID, parts: new Map(), completed: false };
    draft.parts.set(part.id, part.text ?? "");
    this.drafts.set(part.messageID, draft);
  }

  noteMessage(info: MessageInfoLike): void {
    if (info.role !== "assistant") {
      // User-message parts arrive as events too; chat.message already captured them.
      this.drafts.delete(info.id);
      return;
    }
    if (!info.time.completed || this.recorded.has(info.id)) return;
    const draft = this.drafts.get(info.id);
    this.drafts.delete(info.id);
    const text = draft
      ? [...draft.parts.entries()]
          .sort(([left], [right]) => (left < right ? -1 : 1))
          .map(([, partText]) => partText.trim())
          .filter(Boolean)
          .join("\n")
      : "";
    if (text) this.append(info.sessionID, { role: "assistant", messageID: info.id, text, time: info.time.completed });
    else this.markRecorded(info.id);
  }

  buffered(sessionID: string): readonly TranscriptTurn[] {
    return this.turns.get(sessionID) ?? [];
  }

  sessionsWithTurns(): string[] {
    return [...this.turns.keys()];
  }

  /** Empties the session's buffer into episodes of at most `episodeMaxChars` characters each. */
  takeEpisodes(sessionID: string, scope: MemoryScope): EpisodeRequest[] {
    const turns = this.turns.get(sessionID);
    this.turns.delete(sessionID);
    if (!turns || turns.length === 0) return [];
    const episodes: EpisodeRequest[] = [];
    let chunk: TranscriptTurn[] = [];
    let chunkChars = 0;
    const emit = () => {
      if (chunk.length === 0) return;
      episodes.push({
        ...scope,
        name: `opencode session ${sessionID} at ${new Date(chunk[0]!.time).toISOString()}`,
        content: chunk.map((turn) => `${turn.role}: ${turn.text}`).join("\n"),
        source: "message",
        source_description: "OpenCode conversation",
        reference_time: new Date(chunk[0]!.time).toISOString(),
        session_id: sessionID,
      });
      chunk = [];
      chunkChars = 0;
    };
    for (const turn of turns) {
      const line = `${turn.role}: ${turn.text}`.length + 1;
      if (chunkChars + line > this.episodeMaxChars) emit();
      chunk.push(turn);
      chunkChars += line;
    }
    emit();
    return episodes;
  }

  forgetSession(sessionID: string): void {
    this.turns.delete(sessionID);
    for (const [messageID, draft] of this.drafts) if (draft.sessionID === sessionID) this.drafts.delete(messageID);
  }

  private markRecorded(messageID: string): void {
    this.recorded.add(messageID);
    // Only recent ids can still receive late update events; a long-lived server must not grow forever.
    if (this.recorded.size > RECORDED_IDS_KEPT * 2) {
      let excess = this.recorded.size - RECORDED_IDS_KEPT;
      for (const id of this.recorded) {
        if (excess-- <= 0) break;
        this.recorded.delete(id);
      }
    }
  }

  private append(sessionID: string, turn: TranscriptTurn): void {
    if (this.recorded.has(turn.messageID)) return;
    this.markRecorded(turn.messageID);
    // One message alone may not exceed an episode: a pasted log must not become a 1 MB episode.
    const text = truncate(turn.text, Math.max(200, this.episodeMaxChars - 32));
    const list = this.turns.get(sessionID) ?? [];
    list.push({ ...turn, text });
    this.turns.set(sessionID, list);
  }
}
