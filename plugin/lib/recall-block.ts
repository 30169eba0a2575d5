import type { RecalledFact } from "./memory-client.ts";

const HEADER =
  "<long-term-memory>\nFacts recalled from earlier sessions in this project (may be outdated; the current conversation wins):\n";
const FOOTER = "</long-term-memory>";

function factLine(fact: RecalledFact): string {
  const since = fact.valid_at ? ` (since ${fact.valid_at.slice(0, 10)})` : "";
  return `- ${fact.fact.replace(/\s+/g, " ").trim()}${since}\n`;
}

/**
 * The memory block for one turn, never longer than `maxChars` (header and footer included), or
 * undefined when nothing fits or nothing is current. Facts come ranked by the memory process, so
 * the block keeps the first ones that fit whole; a single fact longer than the room left is cut.
 */
export function buildRecallBlock(facts: readonly RecalledFact[], maxChars: number): string | undefined {
  const room = maxChars - HEADER.length - FOOTER.length;
  if (room <= 0) return undefined;
  let body = "";
  for (const fact of facts) {
    if (fact.invalid_at || !fact.fact?.trim()) continue;
    const line = factLine(fact);
    if (body.length + line.length <= room) {
      body += line;
      continue;
    }
    if (body.length === 0 && room > 8) body = `${line.slice(0, room - 2)}…\n`;
    break;
  }
  return body ? `${HEADER}${body}${FOOTER}` : undefined;
}
