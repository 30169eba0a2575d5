/**
 * The agent's commands see no secret (issue 17, part 2), proven with the real opencode and this plugin: a session's
 * shell (`POST /session/{id}/shell`, what the agent's bash runs through) prints its environment with `env` and
 * /proc/self/environ, and neither holds a secret's name or value, while the server still demands its password.
 * The model is the local OpenAI-compatible double; memory is off (MEMORY_AUTOSTART=0), it plays no part here.
 */
import assert from "node:assert/strict";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { after, before, describe, test } from "node:test";
import { prepareOpencodeHome, startOpenAIDouble, startOpencode, type OpencodeServer } from "./support/e2e-stack.ts";
import { waitUntil, type TestProcess } from "./support/processes.ts";

const secrets = {
  OPENCODE_SERVER_PASSWORD: `server-pw-${Math.random().toString(36).slice(2)}`,
  ANTHROPIC_API_KEY: `sk-ant-${Math.random().toString(36).slice(2)}`,
  GITHUB_TOKEN: `ghp_${Math.random().toString(36).slice(2)}`,
  FALKORDB_PASSWORD_FILE: "/dev/shm/opencode-secrets-test/falkordb-password",
  TEAM_DEPLOY_SECRET: `deploy-${Math.random().toString(36).slice(2)}`,
};
const copied = { NOT_NAMED_LIKE_A_SECRET: secrets.TEAM_DEPLOY_SECRET };

let workDir: string;
let llm: { process: TestProcess; baseUrl: string };
let opencode: OpencodeServer;
let project: string;
const auth = { authorization: `Basic ${Buffer.from(`opencode:${secrets.OPENCODE_SERVER_PASSWORD}`).toString("base64")}` };

async function api(method: string, route: string, body?: unknown, headers: Record<string, string> = auth): Promise<Response> {
  const separator = route.includes("?") ? "&" : "?";
  return fetch(`${opencode.url}${route}${separator}directory=${encodeURIComponent(project)}`, {
    method,
    headers: { "content-type": "application/json", ...headers },
    body: body === undefined ? undefined : JSON.stringify(body),
    signal: AbortSignal.timeout(60_000),
  });
}

describe("the agent's shell environment, with the real opencode", { timeout: 240_000 }, () => {
  before(async () => {
    workDir = await mkdtemp(path.join(tmpdir(), "agent-shell-env-"));
    llm = await startOpenAIDouble(workDir);
    const prepared = await prepareOpencodeHome(workDir, llm.baseUrl);
    project = prepared.project;
    opencode = await startOpencode(workDir, prepared.home, project, { ...secrets, ...copied, MEMORY_AUTOSTART: "0" });
  });
  after(async () => {
    await opencode?.process.stop();
    await llm?.process.stop();
    await rm(workDir, { recursive: true, force: true });
  });

  test("env and /proc/self/environ of a session's shell hold no secret name or value", async () => {
    const session = await (await api("POST", "/session", {})).json();
    const response = await api("POST", `/session/${session.id}/shell`, {
      agent: "build",
      command: "env; echo ENVIRON-FOLLOWS; tr '\\0' '\\n' </proc/self/environ",
    });
    assert.equal(response.status, 200, await response.clone().text());
    const messages = await (await api("GET", `/session/${session.id}/message`)).json();
    const output = JSON.stringify(messages);
    assert.match(output, /ENVIRON-FOLLOWS/, "the command's output is not in the session");
    assert.match(output, /HOME=/, "the environment was not printed");
    for (const [name, value] of Object.entries(secrets)) {
      assert.ok(!output.includes(`${name}=`), `${name} is visible to the agent's shell`);
      assert.ok(!output.includes(value), `the value of ${name} is visible to the agent's shell`);
    }
    assert.ok(!output.includes("NOT_NAMED_LIKE_A_SECRET="), "a copy of a secret's value under another name is visible");
  });

  test("a terminal opened through /pty holds no secret value; the names it keeps are set to the word undefined", async () => {
    // OpenCode 1.18.33 builds a PTY's environment from the same shell.env hook (PtyHttpApi.create), but its terminal
    // library writes a variable the hook unset as NAME=undefined instead of leaving it out: the value is gone, the name
    // stays. The terminal's program writes what it sees to a file, since its output otherwise goes to a websocket.
    const seen = path.join(workDir, "pty-environment.txt");
    const script = `{ env; echo ENVIRON-FOLLOWS; tr '\\0' '\\n' </proc/self/environ; } >${seen}.part && mv ${seen}.part ${seen}`;
    const response = await api("POST", "/pty", { command: "/bin/sh", args: ["-c", script], cwd: project });
    assert.equal(response.status, 200, await response.clone().text());
    const output = await waitUntil("the terminal's program to write its environment", async () => {
      try {
        return await readFile(seen, "utf8");
      } catch {
        return undefined;
      }
    }, 60_000, opencode.process);
    assert.match(output, /ENVIRON-FOLLOWS\n[\s\S]*HOME=/, "the environment was not printed");
    for (const [name, value] of Object.entries({ ...secrets, ...copied })) {
      assert.ok(!output.includes(value), `the value of ${name} is visible in the terminal`);
      for (const line of output.split("\n").filter((line) => line.startsWith(`${name}=`))) {
        assert.equal(line, `${name}=undefined`, `${name} reaches the terminal with a value`);
      }
    }
  });

  test("the server still demands its password", async () => {
    assert.equal((await api("GET", "/config", undefined, {})).status, 401);
    assert.equal((await api("GET", "/config")).status, 200);
  });
});
