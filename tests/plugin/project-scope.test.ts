import assert from "node:assert/strict";
import { test } from "node:test";
import { isValidGroupId, memoryScope, projectDirectory } from "../../plugin/lib/project-scope.ts";
import { readSettings } from "../../plugin/lib/settings.ts";

test("a git worktree root is the project, so subdirectories share one memory group", () => {
  assert.equal(projectDirectory({ directory: "/srv/app/packages/api", worktree: "/srv/app" }), "/srv/app");
});

test("outside git (worktree '/') the session directory is the project", () => {
  assert.equal(projectDirectory({ directory: "/home/dev/notes", worktree: "/" }), "/home/dev/notes");
  assert.equal(projectDirectory({ directory: "", worktree: "" }), "/");
});

test("the memory scope sends project_dir, or a valid MEMORY_GROUP_ID override", () => {
  const location = { directory: "/srv/app/sub", worktree: "/srv/app" };
  assert.deepEqual(memoryScope(location, undefined), { project_dir: "/srv/app" });
  assert.deepEqual(memoryScope(location, "team_memory-1"), { group_id: "team_memory-1" });
  // An id the memory process would refuse falls back to the project directory instead of failing every call.
  assert.deepEqual(memoryScope(location, "bad id/../x"), { project_dir: "/srv/app" });
  assert.equal(isValidGroupId("a-b_C9"), true);
  assert.equal(isValidGroupId("a b"), false);
});

test("settings: loopback address, defaults, and the manager next to the plugin directory", () => {
  const settings = readSettings("/root/.opencode/plugin", { HOME: "/home/x" });
  assert.equal(settings.baseUrl, "http://127.0.0.1:8765");
  assert.equal(settings.recallMaxChars, 2000);
  assert.equal(settings.recallTimeoutMs, 300);
  assert.equal(settings.managerScript, "/root/.opencode/graphiti/memory_manager.py");
  assert.equal(settings.spoolDir, "/home/x/.local/share/opencode-memory/spool");
  const tuned = readSettings("/p", {
    HOME: "/h",
    MEMORY_PORT: "9999",
    MEMORY_RECALL_MAX_CHARS: "500",
    MEMORY_PYTHON: "/usr/bin/python3.11",
    MEMORY_RECALL_TIMEOUT_MS: "not-a-number",
  });
  assert.equal(tuned.baseUrl, "http://127.0.0.1:9999");
  assert.equal(tuned.recallMaxChars, 500);
  assert.equal(tuned.pythonCommand, "/usr/bin/python3.11");
  assert.equal(tuned.recallTimeoutMs, 300);
});
