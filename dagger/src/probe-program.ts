/**
 * The program `healthcheck` runs inside the built image, with the image's own Node.js: it starts the server with the
 * image's entrypoint, proves OpenCode answers (the image's health check script, so the same credentials path), then
 * that the memory process answers its /health with FalkorDB and Valkey reachable, and prints a report with every secret
 * redacted. On failure it says which part failed, with the server's last output, also scrubbed of secrets.
 *
 * It is plain JavaScript in a string because it runs in the image, not in the module; tests/module run the very same
 * text with node against the real opencode binary.
 *
 * Environment: HEALTHCHECK_URL (GET /config), PROBE_ATTEMPTS, PROBE_INTERVAL_MS, PROBE_HEALTHCHECK (the script),
 * PROBE_CONFIG_FILE (the committed config as installed), PROBE_LOG_DIRECTORY (OpenCode's log files), PROBE_MEMORY=1 to
 * require memory, MEMORY_PORT, PROBE_SERVER_OUTPUT. Arguments: the server's command line (none: a server already runs).
 *
 * PROBE_ROLE splits it across two containers that share the folder PROBE_SHARED_DIR (healthcheck runs the server as a
 * service and probes it from a second container by hostname):
 * - `server`: starts the command line, its output into the folder; every interval it writes there what the memory
 *   process's /health says (that route listens on the server's loopback only) and the OpenCode log's last lines; when
 *   the server exits it writes the exit code and exits with it.
 * - `probe`: checks HEALTHCHECK_URL from outside, reads memory's health and the server's output from the folder.
 * - `diagnose`: after the engine stopped the probe because the server's service exited, prints `opencode: …` with the
 *   server's exit code and last lines, from the folder.
 * Unset: one container, as above.
 */
export const PROBE_PROGRAM = String.raw`
import { spawn, spawnSync } from "node:child_process";
import { closeSync, existsSync, mkdirSync, openSync, readdirSync, readFileSync, renameSync, statSync, writeFileSync } from "node:fs";
import { constants as osConstants, homedir } from "node:os";
import { dirname, isAbsolute, join, resolve } from "node:path";

const env = process.env;
const REDACTED = "[redacted]";
const PLACEHOLDER = /\{(env|file):[^}]*\}/;
const SECRET_WORDS = new Set([
  "apikey", "auth", "authorization", "bearer", "cookie", "cookies", "credential", "credentials", "key", "pass", "passphrase",
  "passwd", "password", "pat", "pwd", "secret", "secrets", "signature", "token",
]);
/** Shorter values are redacted only where a whole string equals one: replacing "abc" inside every string would garble. */
const MIN_SCRUB_LENGTH = 6;

/** Whether a config key or environment variable names a secret: one of its words (camelCase, snake_case, kebab-case) does. */
export function namesSecret(name) {
  const words = String(name)
    .replace(/([A-Z]+)([A-Z][a-z])/g, "$1 $2")
    .replace(/([a-z0-9])([A-Z])/g, "$1 $2")
    .toLowerCase()
    .split(/[^a-z0-9]+/);
  return words.some((word) => SECRET_WORDS.has(word));
}

/**
 * Credentials a string carries in a recognisable shape, whatever key it sits under: a URL's user-info
 * (https://alice:pw@host), a query parameter naming a secret (?access_token=…), a command-line flag naming one
 * (--api-key=…), an environment assignment (GITHUB_TOKEN=…) or a header line (Authorization: Bearer …).
 */
export function scrubCredentialShapes(text) {
  return String(text)
    .replace(/\b([a-z][a-z0-9+.-]*:\/\/)[^\/\s@?#]+@/gi, "$1" + REDACTED + "@")
    .replace(/([?&;])([^=&#\s?;]+)=([^&#\s;"']*)/g, (whole, separator, name) => (namesSecret(name) ? separator + name + "=" + REDACTED : whole))
    .replace(/^(-{1,2}[A-Za-z0-9_.-]+|[A-Za-z_][A-Za-z0-9_]*)=(.+)$/s, (whole, name) => (namesSecret(name.replace(/^-+/, "")) ? name + "=" + REDACTED : whole))
    .replace(/^([A-Za-z0-9-]+):\s*(.+)$/s, (whole, name) => (namesSecret(name) ? name + ": " + REDACTED : whole));
}

/** An argv-like list (an MCP server's command): the item after a flag that names a secret (--token xyz) is redacted. */
function redactArgv(items) {
  return items.map((item, index) => {
    const previous = items[index - 1];
    if (typeof previous === "string" && /^-{1,2}[A-Za-z0-9_.-]+$/.test(previous) && namesSecret(previous.replace(/^-+/, "")) && typeof item === "string") return REDACTED;
    return item;
  });
}

function readIfPresent(path) {
  try { return readFileSync(path, "utf8"); } catch { return undefined; }
}

/** A {file:...} path as OpenCode resolves it: ~/ is the home directory, a relative path is relative to the config file. */
function placeholderPath(path, configFile) {
  if (path.startsWith("~/")) return join(homedir(), path.slice(2));
  return isAbsolute(path) ? path : resolve(dirname(configFile || "."), path);
}

/** Every value that must never be printed: what the config's placeholders resolve to, and secret-named variables. */
export function secretValues(committedText, configFile, environment) {
  const values = new Set();
  const add = (value) => { if (typeof value === "string" && value !== "") { values.add(value); values.add(value.trim()); } };
  for (const match of committedText.matchAll(/\{env:([^}]+)\}/g)) add(environment[match[1]]);
  for (const match of committedText.matchAll(/\{file:([^}]+)\}/g)) add(readIfPresent(placeholderPath(match[1], configFile)));
  for (const [name, value] of Object.entries(environment)) if (namesSecret(name)) add(value);
  values.delete("");
  return [...values].sort((a, b) => b.length - a.length);
}

export function scrub(text, secrets) {
  let result = String(text);
  for (const secret of secrets) {
    if (result === secret) return REDACTED;
    if (secret.length >= MIN_SCRUB_LENGTH) result = result.split(secret).join(REDACTED);
  }
  return result;
}

/**
 * The served config with secrets redacted: values where the committed config has a {env:...}/{file:...} placeholder,
 * values under keys that name a key, token, password or secret, and any string holding a known secret value.
 */
export function redactConfig(served, committed, secrets, redactedPaths = [], path = "") {
  if (typeof committed === "string" && PLACEHOLDER.test(committed)) {
    redactedPaths.push(path);
    return REDACTED;
  }
  if (Array.isArray(served)) {
    const argv = redactArgv(served);
    return argv.map((item, index) => {
      if (item === REDACTED && served[index] !== REDACTED) {
        redactedPaths.push(path + "[" + index + "]");
        return REDACTED;
      }
      return redactConfig(item, Array.isArray(committed) ? committed[index] : undefined, secrets, redactedPaths, path + "[" + index + "]");
    });
  }
  if (served !== null && typeof served === "object") {
    const result = {};
    const committedObject = committed !== null && typeof committed === "object" && !Array.isArray(committed) ? committed : {};
    for (const [key, value] of Object.entries(served)) {
      const childPath = path === "" ? key : path + "." + key;
      if (namesSecret(key) && value !== null && value !== "") {
        redactedPaths.push(childPath);
        result[key] = REDACTED;
      } else {
        result[key] = redactConfig(value, committedObject[key], secrets, redactedPaths, childPath);
      }
    }
    return result;
  }
  if (typeof served === "string") {
    const scrubbed = scrubCredentialShapes(scrub(served, secrets));
    if (scrubbed !== served) redactedPaths.push(path);
    return scrubbed;
  }
  return served;
}

/**
 * The memory process's own health route, with the token it publishes for callers in its container (the rule of
 * graphiti/opencode_memory/api_token.py: $XDG_RUNTIME_DIR/opencode-memory, else /tmp/opencode-memory-<uid>). Without
 * the token every route answers 401.
 */
export function memoryHealthRequest(environment) {
  const port = environment.MEMORY_PORT || "8765";
  const runtime = environment.XDG_RUNTIME_DIR && isAbsolute(environment.XDG_RUNTIME_DIR) && existsSync(environment.XDG_RUNTIME_DIR)
    ? join(environment.XDG_RUNTIME_DIR, "opencode-memory")
    : join(environment.TMPDIR || "/tmp", "opencode-memory-" + process.getuid());
  const token = readIfPresent(join(runtime, "api-token-" + port));
  const headers = token && token.trim() ? { authorization: "Bearer " + token.trim() } : {};
  return { url: "http://127.0.0.1:" + port + "/health", headers };
}

async function readMemoryHealth(environment) {
  const request = memoryHealthRequest(environment);
  const response = await fetch(request.url, { headers: request.headers, signal: AbortSignal.timeout(5000) });
  if (!response.ok) throw new Error("HTTP " + response.status);
  return await response.json();
}

function lastLines(text, count) {
  return text.split("\n").slice(-count - 1).join("\n").trimEnd();
}

function serverOutputTail(outputFile, logDirectory) {
  const parts = [];
  const output = outputFile ? readIfPresent(outputFile) : undefined;
  if (output && output.trim()) parts.push("last lines of the server's output:\n" + lastLines(output, 20));
  const newest = newestLog(logDirectory);
  const log = newest ? readIfPresent(newest) : undefined;
  parts.push(log && log.trim() ? "last lines of the OpenCode log:\n" + lastLines(log, 40) : "(OpenCode wrote no log)");
  return parts.join("\n");
}

const sleep = (ms) => new Promise((done) => setTimeout(done, ms));

/** Why a request got no answer, in a few words (ECONNREFUSED rather than "fetch failed"). */
function noAnswer(error) {
  return "no answer (" + (error && error.cause && error.cause.code ? error.cause.code : error.message) + ")";
}

function writeAtomically(path, text) {
  writeFileSync(path + ".tmp", text);
  renameSync(path + ".tmp", path);
}

function newestLog(logDirectory) {
  try {
    const logs = readdirSync(logDirectory).filter((name) => name.endsWith(".log")).map((name) => join(logDirectory, name));
    return logs.sort((a, b) => statSync(b).mtimeMs - statSync(a).mtimeMs)[0];
  } catch { return undefined; }
}

/** The server's output and the OpenCode log's last lines as the server role left them in the shared folder. */
function sharedTail(shared) {
  const parts = [];
  const output = readIfPresent(join(shared, "server.out"));
  if (output && output.trim()) parts.push("last lines of the server's output:\n" + lastLines(output, 20));
  const log = readIfPresent(join(shared, "opencode.log"));
  parts.push(log && log.trim() ? "last lines of the OpenCode log:\n" + log.trimEnd() : "(OpenCode wrote no log)");
  return parts.join("\n");
}

/** What the server role last read from memory's /health: the health, or why there was none. */
function relayedMemoryHealth(shared) {
  const text = readIfPresent(join(shared, "memory-health.json"));
  if (text === undefined) throw new Error("the server's container has not read it yet");
  const record = JSON.parse(text);
  if (record.problem) throw new Error(record.problem);
  return record.health;
}

/** The server role: runs the server, relays what only its container can see into the shared folder. */
async function serveAndRelay(command, shared, intervalMs) {
  mkdirSync(shared, { recursive: true });
  const output = openSync(join(shared, "server.out"), "a");
  const server = spawn(command[0], command.slice(1), { stdio: ["ignore", output, output], detached: true });
  closeSync(output);
  let exitCode = null;
  const exited = new Promise((done) => {
    server.on("exit", (code, signal) => { exitCode = code ?? 128 + (osConstants.signals[signal] || 0); done(); });
    server.on("error", (error) => {
      writeFileSync(join(shared, "server.out"), "could not start " + command[0] + ": " + error.message + "\n", { flag: "a" });
      exitCode = 127;
      done();
    });
  });
  for (const signal of ["SIGTERM", "SIGINT"]) {
    process.on(signal, () => { try { process.kill(-server.pid, signal); } catch {} });
  }
  while (exitCode === null) {
    let record;
    try { record = { health: await readMemoryHealth(env) }; } catch (error) { record = { problem: noAnswer(error) }; }
    writeAtomically(join(shared, "memory-health.json"), JSON.stringify(record));
    const log = newestLog(env.PROBE_LOG_DIRECTORY || "");
    const text = log ? readIfPresent(log) : undefined;
    if (text) writeAtomically(join(shared, "opencode.log"), lastLines(text, 40) + "\n");
    await Promise.race([exited, sleep(intervalMs)]);
  }
  writeAtomically(join(shared, "server.exit"), String(exitCode));
  process.exit(exitCode);
}

/** The diagnose role: the server's service is gone; say why from what it left in the shared folder. */
function diagnose(shared, secrets) {
  const code = readIfPresent(join(shared, "server.exit"));
  const what = code !== undefined
    ? "the server exited with code " + code.trim() + " while the probe ran"
    : "the server's service stopped while the probe ran (" + (env.PROBE_ENGINE_ERROR || "the engine gave no reason") + ")";
  const text = scrub("opencode: " + what + "\n" + sharedTail(shared), secrets).split("\n").map(scrubCredentialShapes).join("\n");
  process.stdout.write(text + "\n");
  process.exit(0);
}

async function main() {
  const attempts = Number(env.PROBE_ATTEMPTS || "45");
  const intervalMs = Number(env.PROBE_INTERVAL_MS || "2000");
  const healthcheck = env.PROBE_HEALTHCHECK || "/app/scripts/healthcheck";
  const configUrl = env.HEALTHCHECK_URL || "http://localhost:4096/config";
  const configFile = env.PROBE_CONFIG_FILE || "";
  const outputFile = env.PROBE_SERVER_OUTPUT || "/tmp/opencode-server.out";
  const committedText = (configFile && readIfPresent(configFile)) || "{}";
  let committed = {};
  try { committed = JSON.parse(committedText); } catch {}
  const secrets = secretValues(committedText, configFile, env);
  const role = env.PROBE_ROLE || "";
  const shared = env.PROBE_SHARED_DIR || "";
  const remote = role === "probe";

  const command = process.argv.slice(2);
  if (role === "server") return await serveAndRelay(command, shared, intervalMs);
  if (role === "diagnose") return diagnose(shared, secrets);
  let server;
  let startError;
  if (!remote && command.length > 0) {
    const output = openSync(outputFile, "a");
    server = spawn(command[0], command.slice(1), { stdio: ["ignore", output, output], detached: true });
    closeSync(output);
    server.on("error", (error) => { startError = error; });
  }
  const stopServer = () => {
    if (server && server.exitCode === null && server.pid) {
      try { process.kill(-server.pid, "SIGTERM"); } catch {}
    }
  };
  const fail = (part, message) => {
    const tail = remote ? sharedTail(shared) : serverOutputTail(server ? outputFile : "", env.PROBE_LOG_DIRECTORY || "");
    const scrubbed = scrub(part + ": " + message + "\n" + tail, secrets).split("\n").map(scrubCredentialShapes).join("\n");
    process.stderr.write(scrubbed + "\n");
    stopServer();
    process.exit(1);
  };

  let body;
  let lastError = "no attempt ran";
  for (let attempt = 1; attempt <= attempts; attempt++) {
    if (startError) fail("opencode", "could not start " + command[0] + ": " + startError.message);
    if (server && server.exitCode !== null) {
      fail("opencode", "the server exited with code " + server.exitCode + " before GET " + configUrl + " answered 200");
    }
    const exitedRemotely = remote ? readIfPresent(join(shared, "server.exit")) : undefined;
    if (exitedRemotely !== undefined) {
      fail("opencode", "the server exited with code " + exitedRemotely.trim() + " before GET " + configUrl + " answered 200");
    }
    const result = spawnSync(healthcheck, [], { env: { ...env, HEALTHCHECK_PRINT_BODY: "1" }, encoding: "utf8", timeout: 15000 });
    if (result.status === 0) { body = result.stdout; break; }
    lastError = ((result.stderr || "") + (result.error ? result.error.message : "")).trim() || "exit code " + result.status;
    if (attempt < attempts) await sleep(intervalMs);
  }
  if (body === undefined) fail("opencode", "GET " + configUrl + " gave no 200 after " + attempts + " attempts; last error: " + lastError);
  let config;
  try { config = JSON.parse(body); } catch { fail("opencode", "GET " + configUrl + " answered 200 but not with JSON"); }

  let memory = null;
  if (env.PROBE_MEMORY === "1") {
    const url = memoryHealthRequest(env).url;
    let health;
    let lastProblem = "no attempt ran";
    for (let attempt = 1; attempt <= attempts; attempt++) {
      try {
        health = remote ? relayedMemoryHealth(shared) : await readMemoryHealth(env);
        if (health.falkordb === true && health.valkey === true) { memory = health; break; }
        lastProblem = "answered " + JSON.stringify(health);
      } catch (error) {
        health = undefined;
        lastProblem = remote ? error.message : noAnswer(error);
      }
      if (attempt < attempts) await sleep(intervalMs);
    }
    if (memory === null) {
      if (health === undefined) fail("memory", "the memory process never answered GET " + url + " in " + attempts + " attempts: " + lastProblem);
      const unreachable = [];
      if (health.falkordb !== true) unreachable.push("FalkorDB at " + env.FALKORDB_HOST + ":" + env.FALKORDB_PORT);
      if (health.valkey !== true) unreachable.push("Valkey at " + env.VALKEY_HOST + ":" + env.VALKEY_PORT);
      fail("memory", "the memory process answers GET " + url + " but cannot reach " + unreachable.join(" nor ") + " (after " + attempts + " attempts; last: " + JSON.stringify(health) + ")");
    }
  }

  const redacted = [];
  const report = { config: redactConfig(config, committed, secrets, redacted), memory, redacted };
  process.stdout.write(scrub(JSON.stringify(report, null, 2), secrets) + "\n");
  stopServer();
  process.exit(0);
}

if (process.argv[1] && process.argv[1].endsWith("healthcheck-probe.mjs")) await main();
`

/** Where `healthcheck` writes the program in the container; tests write it under the same file name. */
export const PROBE_PATH = "/tmp/opencode-healthcheck/healthcheck-probe.mjs"
