/**
 * Issue 21, item 8: the memory stack's images are named once (dagger/src/memory-images.ts); the module's defaults and
 * the pod's `image:` lines both come from there, pinned by tag and digest.
 */
import assert from "node:assert/strict"
import { readFileSync } from "node:fs"
import { describe, it } from "node:test"

import { MEMORY_IMAGES, pinnedReference } from "../../dagger/src/memory-images.js"
import { DEFAULT_FALKORDB_IMAGE, DEFAULT_VALKEY_IMAGE } from "../../dagger/src/memory-stack.js"
import { POD_YAML, withPinnedImages } from "../../tools/render-deploy-images.js"

/** The `image:` of each container of the pod YAML, read line by line (`- name:` then `image:`). */
function podImages(text: string): Record<string, string> {
  const images: Record<string, string> = {}
  for (const match of text.matchAll(/^\s*- name: (\S+)\n\s+image: (\S+)$/gm)) {
    images[match[1]] = match[2]
  }
  return images
}

describe("memory images, named once", () => {
  it("the module's defaults are the pinned references", () => {
    assert.equal(DEFAULT_FALKORDB_IMAGE, pinnedReference(MEMORY_IMAGES.falkordb))
    assert.equal(DEFAULT_VALKEY_IMAGE, pinnedReference(MEMORY_IMAGES.valkey))
  })

  it("every reference is pinned by a tag and a sha256 digest", () => {
    for (const image of Object.values(MEMORY_IMAGES)) {
      assert.match(pinnedReference(image), /^docker\.io\/[a-z0-9/-]+:[\w.-]+@sha256:[0-9a-f]{64}$/)
    }
  })

  it("the committed pod names the module's images (npm run deploy-images writes them)", () => {
    const committed = readFileSync(POD_YAML, "utf8")
    assert.equal(withPinnedImages(committed), committed)
    const images = podImages(committed)
    assert.equal(images.falkordb, DEFAULT_FALKORDB_IMAGE)
    assert.equal(images.valkey, DEFAULT_VALKEY_IMAGE)
  })

  it("a pod naming another version is rewritten, and only the memory containers' lines", () => {
    const stale = [
      "  containers:",
      "    - name: opencode-server",
      "      image: localhost/opencode-server:latest",
      "    - name: falkordb",
      "      image: docker.io/falkordb/falkordb:v4.16.3",
      "    - name: valkey",
      "      image: docker.io/valkey/valkey:8.1.4",
      "",
    ].join("\n")
    const images = podImages(withPinnedImages(stale))
    assert.deepEqual(images, {
      "opencode-server": "localhost/opencode-server:latest",
      falkordb: DEFAULT_FALKORDB_IMAGE,
      valkey: DEFAULT_VALKEY_IMAGE,
    })
  })

  it("a pod without one of the memory containers is refused, naming it", () => {
    assert.throws(() => withPinnedImages("    - name: falkordb\n      image: x\n"), /'valkey'.*found 0/)
  })
})
