import path from "node:path";
import { fileURLToPath } from "node:url";
import type { Plugin } from "@opencode-ai/plugin";
import { createMemoryHooks, sessionLookupFrom } from "./lib/memory-hooks.ts";
import { createMemoryRuntime, startMemoryRuntime, type MemoryRuntime } from "./lib/memory-runtime.ts";
import { hideSecretsFromCommands } from "./lib/secret-env.ts";
import { readSettings } from "./lib/settings.ts";

/**
 * OpenCode long-term memory backed by Graphiti on FalkorDB (docs/architecture.md).
 * OpenCode loads every top-level .ts file here as a plugin and calls every export, so this file
 * exports exactly one function; the parts live in ./lib.
 */
const pluginDir = path.dirname(fileURLToPath(import.meta.url));
let sharedRuntime: MemoryRuntime | undefined;

export const GraphitiMemoryPlugin: Plugin = async (input) => {
  sharedRuntime ??= createMemoryRuntime(readSettings(pluginDir));
  startMemoryRuntime(sharedRuntime);
  return {
    ...createMemoryHooks({
      runtime: sharedRuntime,
      location: { directory: input.directory, worktree: input.worktree },
      lookupSession: sessionLookupFrom(input.client),
    }),
    "shell.env": hideSecretsFromCommands(),
  };
};
