/**
 * The acceptance-criteria script (run by the Dagger check in the built image, and by the harness in the Podman-built
 * one) reports each criterion by name and fails when one does not hold: run here on the host, which is not the image.
 */
import assert from "node:assert/strict"
import { spawnSync } from "node:child_process"
import { describe, it } from "node:test"

import { acceptanceChecks, acceptanceScript } from "../../dagger/src/acceptance-checks.js"
import { VENV_MODULES } from "../../dagger/src/image-spec.js"

describe("the acceptance-criteria script", () => {
  const checks = acceptanceChecks()

  it("covers each criterion of the proposal", () => {
    const names = checks.map((check) => check.name).join("\n")
    for (const expected of [/venv imports/, /ddtrace-run/, /rclone/, /b2sdk/, /redis-cli/, /cron/, /plugin is copied/, /memory manager is copied/, /scripts are copied/, /config\.json/, /FALKORDB_HOST defaults to localhost/, /VALKEY_PORT defaults to 6380/, /state directory \/root\/\.local\/share\/opencode is owned by group 0 and group-writable/, /HOME is \/root/]) {
      assert.match(names, expected)
    }
    for (const module of VENV_MODULES) assert.ok(checks[0].command.includes(module))
  })

  it("passes what holds, fails what does not, and exits 1", () => {
    const host = [
      { name: "sh exists", command: "test -x /bin/sh" },
      { name: "a path that is not there", command: "test -e /nonexistent/opencode" },
    ]
    const result = spawnSync("/bin/sh", ["-c", acceptanceScript(host)], { encoding: "utf8" })
    assert.equal(result.status, 1)
    assert.deepEqual(result.stdout.trim().split("\n"), ["PASS sh exists", "FAIL a path that is not there"])
  })

  it("fails on this host, which has no /opt/venv image layout, naming the criteria", () => {
    const result = spawnSync("/bin/sh", ["-c", acceptanceScript(checks)], {
      encoding: "utf8",
      env: { PATH: "/usr/bin:/bin" },
    })
    assert.equal(result.status, 1)
    assert.match(result.stdout, /^FAIL venv imports/m)
    assert.match(result.stdout, /^FAIL health check script is executable/m)
    assert.equal(result.stdout.trim().split("\n").length, checks.length)
  })
})
