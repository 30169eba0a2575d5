/**
 * The by-hand build behind a TLS-intercepting proxy (docs/containerfile.md) is the one the image harness proves: it names
 * tools/make-ca-base.sh and the base it makes, the script makes and prints that same base, and the harness builds on
 * the base the script makes (the harness's `ca-base-npm-reaches-the-registry` and `build` checks then run it for real).
 * The published Containerfile names no CA.
 */
import assert from "node:assert/strict"
import { execFileSync } from "node:child_process"
import { readFileSync } from "node:fs"
import { join } from "node:path"
import { describe, it } from "node:test"
import { fileURLToPath } from "node:url"

const root = fileURLToPath(new URL("../..", import.meta.url))
const read = (path: string) => readFileSync(join(root, path), "utf8")

describe("building by hand behind a TLS-intercepting proxy", () => {
  const readme = read("docs/containerfile.md")
  const script = read("tools/make-ca-base.sh")
  const harnessBase = read("tools/harness/lib/base-image.sh")
  const scriptTag = script.match(/^TAG=(\S+)$/m)?.[1]

  it("README's commands: make the base with tools/make-ca-base.sh, then build with it as BASE_IMAGE", () => {
    assert.ok(scriptTag, "make-ca-base.sh has a default TAG")
    assert.match(readme, /^bash tools\/make-ca-base\.sh\b/m)
    const build = readme.match(/^podman build --format docker --build-arg BASE_IMAGE=(\S+) \\\n\s+-f containers\/opencode-server\/Containerfile -t opencode-server \.$/m)
    assert.ok(build, "README has the podman build command on the CA base")
    assert.equal(build[1], scriptTag)
  })

  it("the script prints the same next command", () => {
    assert.match(script, /echo "build on it: \$store\$ENGINE build.*--build-arg BASE_IMAGE=\$TAG -f containers\/opencode-server\/Containerfile -t opencode-server \."/)
    // Made in the harness's own store, the printed command names that store, so it works as printed from a plain shell.
    assert.match(script, /store="CONTAINERS_CONF=\$\{CONTAINERS_CONF:-\} CONTAINERS_STORAGE_CONF=\$CONTAINERS_STORAGE_CONF "/)
  })

  it("the harness makes its CA base with the script, under the same name", () => {
    assert.match(harnessBase, /bash "\$REPO_ROOT\/tools\/make-ca-base\.sh"/)
    // The default selection of lib/base-image.sh (bookworm, amd64, Node 20), read from the sourced library itself.
    const names = execFileSync("bash", ["-c", 'source tools/harness/lib/base-image.sh && echo "$NODE_BASE_REF $CA_BASE_REF"'], { cwd: root, encoding: "utf8" }).trim().split(" ")
    assert.deepEqual(names, [script.match(/^FROM=(\S+)$/m)?.[1], scriptTag])
  })

  it("the published Containerfile names no CA and no proxy setting", () => {
    assert.doesNotMatch(read("containers/opencode-server/Containerfile"), /NODE_EXTRA_CA_CERTS|PIP_CERT|SSL_CERT_FILE|ca-certificates\/|--mount=type=secret|https?_proxy/i)
  })
})
