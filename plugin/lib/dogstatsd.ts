import { createSocket } from "node:dgram";

type Env = Record<string, string | undefined>;

/** Where the Datadog agent's DogStatsD listens, and the unified service tags every metric carries. */
export interface DogStatsdTarget {
  host: string;
  port: number;
  tags: string[];
}

/** From DD_DOGSTATSD_URL (udp://host:port) or DD_AGENT_HOST (+ DD_DOGSTATSD_PORT, 8125); undefined: send nothing. */
export function dogstatsdTarget(env: Env): DogStatsdTarget | undefined {
  const tags = (["env", "service", "version"] as const)
    .filter((tag) => env[`DD_${tag.toUpperCase()}`])
    .map((tag) => `${tag}:${env[`DD_${tag.toUpperCase()}`]}`);
  const url = env.DD_DOGSTATSD_URL ?? "";
  if (url.startsWith("udp://")) {
    const address = url.slice("udp://".length);
    const split = address.lastIndexOf(":");
    const port = Number(address.slice(split + 1));
    if (split > 0 && Number.isInteger(port) && port > 0) return { host: address.slice(0, split), port, tags };
  }
  if (env.DD_AGENT_HOST) return { host: env.DD_AGENT_HOST, port: Number(env.DD_DOGSTATSD_PORT) || 8125, tags };
  return undefined;
}

/** Adds one to a DogStatsD count: one UDP datagram, fire and forget; it never throws nor waits. */
export function incrementCount(target: DogStatsdTarget | undefined, name: string): void {
  if (!target) return;
  try {
    const line = `${name}:1|c${target.tags.length > 0 ? `|#${target.tags.join(",")}` : ""}`;
    const socket = createSocket("udp4");
    socket.on("error", () => socket.close());
    socket.send(line, target.port, target.host, () => socket.close());
  } catch {
    // metrics fail open, quietly: a turn never depends on them
  }
}
