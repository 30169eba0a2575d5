/**
 * The agent's commands see no secret (issue 17, part 2), proven with the real opencode and this plugin. Every way
 * OpenCode 1.18.33 starts a command takes its environment from the plugin's shell.env hook: a session's shell
 * (`POST /session/{id}/shell`), the agent's bash tool (called by the model double) and a terminal (`POST /pty`). Each
 * prints its environment with `env` and /proc/self/environ; neither holds a secret's name or value (the terminal keeps
 * the names, valued "undefined"), the model never receives one, and the server still demands its password.
 * Memory is off (MEMORY_AUTOSTART=0), it plays no part here.
 */
import assert from "node:assert/strict";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
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
let llm: Awaited<ReturnType<typeof startOpenAIDouble>>;
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

/**
 * Prints the environment twice: as the shell keeps it (env) and as the kernel gave it to a fresh process
 * (/proc/self/environ, read by cat: a redirect would be opened before exec and read empty under bash). No backslash:
 * the model's copy of a user's text carries them doubled.
 */
const PRINT_ENVIRONMENT = "env; echo ENVIRON-FOLLOWS; cat /proc/self/environ | xargs -0 -n 1";

type Message = { parts: Array<{ type: string; tool?: string; state?: { status: string; output?: string } }> };

/** The output of the session's one bash run (the shell route records its command as a bash tool part too). */
function onlyBashOutput(messages: Message[]): string {
  const runs = messages.flatMap((message) => message.parts).filter((part) => part.type === "tool" && part.tool === "bash");
  assert.equal(runs.length, 1, `not one bash run: ${JSON.stringify(messages).slice(0, 2000)}`);
  assert.equal(runs[0].state?.status, "completed", JSON.stringify(runs[0]));
  return runs[0].state?.output ?? "";
}

function assertNoSecretIn(output: string, where: string): void {
  const [shellView, kernelView] = output.split("ENVIRON-FOLLOWS\n");
  assert.match(shellView ?? "", /^HOME=/m, `env printed nothing in ${where}`);
  assert.match(kernelView ?? "", /^HOME=/m, `/proc/self/environ printed nothing in ${where}`);
  for (const [name, value] of Object.entries({ ...secrets, ...copied })) {
    assert.ok(!output.includes(`${name}=`), `${name} is visible to ${where}`);
    assert.ok(!output.includes(value), `the value of ${name} is visible to ${where}`);
  }
}

describe("the agent's shell environment, with the real opencode", { timeout: 240_000 }, () => {
  before(async () => {
    workDir = await mkdtemp(path.join(tmpdir(), "agent-shell-env-"));
    llm = await startOpenAIDouble(workDir);
    const prepared = await prepareOpencodeHome(workDir, llm.baseUrl);
    project = prepared.project;
    // The bash tool would ask before reading /proc (outside the project); nobody is there to answer in a test.
    await writeFile(path.join(project, "opencode.json"), JSON.stringify({ permission: { bash: "allow", external_directory: "allow" } }));
    opencode = await startOpencode(workDir, prepared.home, project, { ...secrets, ...copied, MEMORY_AUTOSTART: "0" });
  });
  after(async () => {
    await opencode?.process.stop();
    await llm?.process.stop();
    await rm(workDir, { recursive: true, force: true });
  });

  test("env and /proc/self/environ of a session's shell hold no secret name or value", async () => {
    const session = await (await api("POST", "/session", {})).json();
    const response = await api("POST", `/session/${session.id}/shell`, { agent: "build", command: PRINT_ENVIRONMENT });
    assert.equal(response.status, 200, await response.clone().text());
    assertNoSecretIn(onlyBashOutput(await (await api("GET", `/session/${session.id}/message`)).json()), "the session's shell");
  });

  test("the agent's bash tool sees none of them, and neither does the model that reads its output", async () => {
    // The model double answers `RUN-BASH: <command>` with a call of OpenCode's bash tool (ShellTool, which builds its
    // environment from the shell.env hook), then gets the tool's output in its next request, as a provider would.
    const session = await (await api("POST", "/session", {})).json();
    const response = await api("POST", `/session/${session.id}/message`, { parts: [{ type: "text", text: `RUN-BASH: ${PRINT_ENVIRONMENT}` }] });
    assert.equal(response.status, 200, await response.clone().text());
    assertNoSecretIn(onlyBashOutput(await (await api("GET", `/session/${session.id}/message`)).json()), "the bash tool");
    const toModel = JSON.stringify(await llm.requests());
    assert.match(toModel, /ENVIRON-FOLLOWS/, "the tool's output never reached the model");
    for (const [name, value] of Object.entries({ ...secrets, ...copied })) {
      assert.ok(!toModel.includes(value), `the value of ${name} reached the model`);
    }
  });

  test("a terminal opened through /pty holds no secret value; the names it keeps are set to the word undefined", async () => {
    // OpenCode 1.18.33 builds a PTY's environment from the same shell.env hook (PtyHttpApi.create), but its terminal
    // library writes a variable the hook unset as NAME=undefined instead of leaving it out: the value is gone, the name
    // stays. The terminal's program writes what it sees to a file, since its output otherwise goes to a websocket.
    const seen = path.join(workDir, "pty-environment.txt");
    const script = `{ ${PRINT_ENVIRONMENT}; } >${seen}.part && mv ${seen}.part ${seen}`;
    const response = await api("POST", "/pty", { command: "/bin/sh", args: ["-c", script], cwd: project });
    assert.equal(response.status, 200, await response.clone().text());
    const output = await waitUntil("the terminal's program to write its environment", async () => {
      try {
        return await readFile(seen, "utf8");
      } catch {
        return undefined;
      }
    }, 60_000, opencode.process);
    const [shellView, kernelView] = output.split("ENVIRON-FOLLOWS\n");
    assert.match(shellView ?? "", /^HOME=/m, "env printed nothing in the terminal");
    assert.match(kernelView ?? "", /^HOME=/m, "/proc/self/environ printed nothing in the terminal");
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
