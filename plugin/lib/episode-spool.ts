import { randomBytes } from "node:crypto";
import { promises as fs } from "node:fs";
import path from "node:path";
import type { EpisodeRequest } from "./memory-client.ts";

/** One episode waiting to be accepted by the memory process, mirrored in one spool file. */
export type SpooledEpisode = { id: string; episode: EpisodeRequest };

let sequence = 0;

/** Ids sort in creation order, so the spool replays episodes in the order they happened. */
export function nextSpoolId(now: number = Date.now()): string {
  sequence = (sequence + 1) % 1_000_000;
  return `${String(now).padStart(15, "0")}-${String(sequence).padStart(6, "0")}-${randomBytes(4).toString("hex")}`;
}

/**
 * The on-disk half of the ingest queue: one JSON file per episode, written atomically (temporary
 * file + rename), so a restart of OpenCode replays what the memory process had not yet accepted.
 */
export class EpisodeSpool {
  constructor(readonly directory: string) {}

  private fileFor(id: string): string {
    return path.join(this.directory, `${id}.json`);
  }

  async write(entry: SpooledEpisode): Promise<void> {
    await fs.mkdir(this.directory, { recursive: true, mode: 0o700 });
    const target = this.fileFor(entry.id);
    const temporary = `${target}.${process.pid}.tmp`;
    await fs.writeFile(temporary, JSON.stringify(entry.episode), { mode: 0o600 });
    await fs.rename(temporary, target);
  }

  async remove(id: string): Promise<void> {
    await fs.rm(this.fileFor(id), { force: true });
  }

  /** Unreadable files are skipped, not fatal: one corrupt file must not stop the rest from replaying. */
  async readAll(): Promise<SpooledEpisode[]> {
    let names: string[];
    try {
      names = await fs.readdir(this.directory);
    } catch {
      return [];
    }
    const entries: SpooledEpisode[] = [];
    for (const name of names.filter((candidate) => candidate.endsWith(".json")).sort()) {
      try {
        const episode = JSON.parse(await fs.readFile(path.join(this.directory, name), "utf8")) as EpisodeRequest;
        if (typeof episode?.content === "string") entries.push({ id: name.slice(0, -".json".length), episode });
      } catch {
        // A half-written or foreign file; leave it for an operator to inspect.
      }
    }
    return entries;
  }
}
