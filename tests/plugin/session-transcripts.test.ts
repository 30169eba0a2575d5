import assert from "node:assert/strict";
import { test } from "node:test";
import { SessionTranscripts } from "../../plugin/lib/session-transcripts.ts";

const assistantInfo = (id: string, sessionID: string, completed?: number) => ({
  id,
  sessionID,
  role: "assistant",
  time: { created: 1_700_000_000_000, completed },
});
const textPart = (id: string, messageID: string, sessionID: string, text: string, synthetic = false) => ({
  id,
  messageID,
  sessionID,
  type: "text",
  text,
  synthetic,
});

test("a turn becomes one episode: the user message and the finished assistant text", () => {
  const transcripts = new SessionTranscripts(20_000);
  transcripts.addUserMessage("ses_a", "msg_1", "Orion uses Postgres.", 1_700_000_000_000);
  transcripts.noteMessage(assistantInfo("msg_2", "ses_a"));
  transcripts.notePart(textPart("prt_1", "msg_2", "ses_a", "Noted"));
  transcripts.notePart(textPart("prt_1", "msg_2", "ses_a", "Noted: Orion uses Postgres."));
  transcripts.notePart(textPart("prt_2", "msg_2", "ses_a", "<memory echo>", true));
  assert.equal(transcripts.buffered("ses_a").length, 1, "an unfinished assistant message is not yet buffered");
  transcripts.noteMessage(assistantInfo("msg_2", "ses_a", 1_700_000_005_000));
  transcripts.noteMessage(assistantInfo("msg_2", "ses_a", 1_700_000_005_000));

  const episodes = transcripts.takeEpisodes("ses_a", { project_dir: "/srv/app" });
  assert.equal(episodes.length, 1);
  assert.deepEqual(episodes[0], {
    project_dir: "/srv/app",
    name: "opencode session ses_a at 2023-11-14T22:13:20.000Z",
    content: "user: Orion uses Postgres.\nassistant: Noted: Orion uses Postgres.",
    source: "message",
    source_description: "OpenCode conversation",
    reference_time: "2023-11-14T22:13:20.000Z",
    session_id: "ses_a",
  });
  assert.deepEqual(transcripts.takeEpisodes("ses_a", { project_dir: "/srv/app" }), [], "the buffer was emptied");
});

test("sessions are buffered separately and a message is taken once", () => {
  const transcripts = new SessionTranscripts(20_000);
  transcripts.addUserMessage("ses_a", "msg_1", "first");
  transcripts.addUserMessage("ses_b", "msg_2", "second");
  transcripts.addUserMessage("ses_a", "msg_1", "first again (same message id)");
  assert.deepEqual(transcripts.sessionsWithTurns().sort(), ["ses_a", "ses_b"]);
  assert.equal(transcripts.takeEpisodes("ses_a", { group_id: "g" })[0]!.content, "user: first");
  assert.equal(transcripts.takeEpisodes("ses_b", { group_id: "g" })[0]!.content, "user: second");
});

test("long transcripts are split into episodes that respect the size bound", () => {
  const transcripts = new SessionTranscripts(1000);
  for (let index = 0; index < 10; index++) transcripts.addUserMessage("ses_a", `msg_${index}`, `${index} ${"y".repeat(300)}`);
  transcripts.addUserMessage("ses_a", "msg_huge", "z".repeat(50_000));
  const episodes = transcripts.takeEpisodes("ses_a", { group_id: "g" });
  assert.ok(episodes.length >= 4);
  for (const episode of episodes) assert.ok(episode.content.length <= 1000, `episode of ${episode.content.length} chars`);
  assert.match(episodes.at(-1)!.content, /…\[truncated\]$/);
  assert.equal(episodes.map((episode) => episode.content).join("\n").match(/^user: /gm)!.length, 11, "no turn lost");
});

test("an assistant message without text (tool calls only) adds nothing", () => {
  const transcripts = new SessionTranscripts(20_000);
  transcripts.noteMessage(assistantInfo("msg_9", "ses_a", Date.now()));
  assert.deepEqual(transcripts.takeEpisodes("ses_a", { group_id: "g" }), []);
});
