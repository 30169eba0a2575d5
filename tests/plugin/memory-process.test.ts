import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { after, before, test } from "node:test";
import { MemoryClient } from "../../plugin/lib/memory-client.ts";
import { MemoryProcessSupervisor, withParentDeathSignal } from "../../plugin/lib/memory-process.ts";
import type { Logger } from "../../plugin/lib/warn.ts";
import { ContractMemoryServer, waitFor } from "./support/contract-memory-server.ts";
import { unusedLoopbackPort } from "../support/loopback-port.ts";

/**
 * The supervisor is tested against a stand-in manager script (a real Python process serving
 * /health), so restarts can be provoked quickly; the real manager runs in opencode-e2e.test.ts.
 */
const STAND_IN_MANAGER = `
import json, os, sys
from http.server import BaseHTTPRequestHandler, HTTPServer
assert sys.argv[1:] == ["serve"], sys.argv
open(os.environ["STARTS_FILE"], "a").write(f"{os.getpid()}\\n")
class Health(BaseHTTPRequestHandler):
    def do_GET(self):
        body = json.dumps({"status": os.environ.get("STAND_IN_STATUS", "ok"), "falkordb": False, "valkey": True, "dd_service": os.environ.get("DD_SERVICE"), "pid": os.getpid()}).encode()
        self.send_response(200); self.send_header("content-type", "application/json"); self.end_headers(); self.wfile.write(body)
    def log_message(self, *args): pass
HTTPServer(("127.0.0.1", int(os.environ["MEMORY_PORT"])), Health).serve_forever()
`;

let workDir: string;
before(async () => {
  workDir = await mkdtemp(path.join(tmpdir(), "memory-process-"));
  await writeFile(path.join(workDir, "memory_manager.py"), STAND_IN_MANAGER);
});
after(async () => {
  await rm(workDir, { recursive: true, force: true });
});

function recordingLogger(): Logger & { lines: string[] } {
  const lines: string[] = [];
  return { lines, warn: (_key, message) => lines.push(`warn: ${message}`), info: (message) => lines.push(message) };
}

function supervisorFor(port: number, startsFile: string, logger: Logger, command = "python3", onHealthy?: () => void, extra: { startupGraceMs?: number; env?: Record<string, string> } = {}) {
  return new MemoryProcessSupervisor({
    client: new MemoryClient(`http://127.0.0.1:${port}`),
    logger,
    command,
    args: [path.join(workDir, "memory_manager.py"), "serve"],
    autostart: true,
    healthIntervalMs: 100,
    startupGraceMs: extra.startupGraceMs ?? 30_000,
    restartBackoffMaxMs: 400,
    onHealthy,
    env: { ...process.env, MEMORY_PORT: String(port), STARTS_FILE: startsFile, DD_SERVICE: "opencode-memory-test", ...extra.env },
  });
}

test("the child is wrapped with a parent-death signal when setpriv exists", () => {
  assert.deepEqual(withParentDeathSignal("/opt/venv/bin/python", ["m.py", "serve"], (file) => file === "/usr/bin/setpriv"), [
    "/usr/bin/setpriv",
    ["--pdeathsig", "TERM", "--", "/opt/venv/bin/python", "m.py", "serve"],
  ]);
  assert.deepEqual(withParentDeathSignal("python3", ["m.py", "serve"], () => false), ["python3", ["m.py", "serve"]]);
});

async function healthOf(port: number): Promise<any> {
  const response = await fetch(`http://127.0.0.1:${port}/health`, { signal: AbortSignal.timeout(1000) }).catch(() => undefined);
  return response?.ok ? response.json() : undefined;
}

test("starts the memory process when nothing answers, with the inherited environment, and restarts it when it dies", async () => {
  const port = await unusedLoopbackPort();
  const startsFile = path.join(workDir, "starts-restart");
  let healthyCalls = 0;
  const logger = recordingLogger();
  const supervisor = supervisorFor(port, startsFile, logger, "python3", () => healthyCalls++);
  try {
    supervisor.start();
    await waitFor(async () => (await healthOf(port)) !== undefined, 20_000, "the first memory process");
    const first = await healthOf(port);
    assert.equal(first.dd_service, "opencode-memory-test", "DD_* reaches the child");
    assert.equal(first.pid, supervisor.childPid);
    await waitFor(() => healthyCalls > 0, 5000, "onHealthy");

    process.kill(first.pid, "SIGKILL");
    await waitFor(async () => {
      const health = await healthOf(port);
      return health !== undefined && health.pid !== first.pid;
    }, 20_000, "a restarted memory process");
    assert.ok(logger.lines.some((line) => line.includes("memory process exited")));
  } finally {
    await supervisor.stop();
  }
  assert.equal(await healthOf(port), undefined, "stop() ends the child");
});

test("does not start a second memory process when one already answers /health", async () => {
  const running = await new ContractMemoryServer().start();
  const startsFile = path.join(workDir, "starts-existing");
  const supervisor = supervisorFor(running.port, startsFile, recordingLogger());
  try {
    supervisor.start();
    await waitFor(() => supervisor.healthy, 5000, "the existing process to be seen as healthy");
    await new Promise((resolve) => setTimeout(resolve, 300));
    assert.equal(existsSync(startsFile), false, "the manager was spawned anyway");
    assert.equal(supervisor.childPid, undefined);
  } finally {
    await supervisor.stop();
    await running.stop();
  }
});

test("a missing python is reported and retried, never thrown", async () => {
  const port = await unusedLoopbackPort();
  const logger = recordingLogger();
  const supervisor = supervisorFor(port, path.join(workDir, "starts-missing"), logger, path.join(workDir, "no-such-python"));
  try {
    supervisor.start();
    await waitFor(() => logger.lines.filter((line) => line.startsWith("warn:") && line.includes("does not exist")).length >= 2, 10_000, "a reported retry");
    assert.equal(supervisor.healthy, false);
  } finally {
    await supervisor.stop();
  }
});

test("a child that answers but is degraded (its servers are away) is left running and reported once, not restarted", async () => {
  const port = await unusedLoopbackPort();
  const startsFile = path.join(workDir, "starts-degraded");
  const logger = recordingLogger();
  let healthyCalls = 0;
  const supervisor = supervisorFor(port, startsFile, logger, "python3", () => healthyCalls++, { startupGraceMs: 2000, env: { STAND_IN_STATUS: "degraded" } });
  try {
    supervisor.start();
    await waitFor(() => logger.lines.some((line) => line.includes("is up but degraded")), 20_000, "the degraded report").catch((error) => {
      throw new Error(`${error.message}; log: ${logger.lines.join(" / ")}`);
    });
    await new Promise((resolve) => setTimeout(resolve, 5000)); // more than two startup graces
    assert.equal((await readFile(startsFile, "utf8")).trim().split("\n").length, 1, "the degraded child was restarted");
    assert.equal(logger.lines.filter((line) => line.includes("is up but degraded")).length, 1);
    assert.match(logger.lines.find((line) => line.includes("degraded"))!, /FalkorDB unreachable, Valkey up/);
    assert.equal(supervisor.healthy, false);
    assert.equal(healthyCalls, 0, "the spool is not drained into a degraded process");
  } finally {
    await supervisor.stop();
  }
});
