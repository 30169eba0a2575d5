/**
 * Issue 21, item 8: the memory stack's images are named once (dagger/src/memory-images.ts); the module's defaults and
 * the chart's values (from which deploy/ is rendered) both come from there, pinned by tag and digest.
 */
import assert from "node:assert/strict"
import { readFileSync } from "node:fs"
import { describe, it } from "node:test"

import { MEMORY_IMAGES, pinnedReference } from "../../dagger/src/memory-images.js"
import { DEFAULT_FALKORDB_IMAGE, DEFAULT_VALKEY_IMAGE } from "../../dagger/src/memory-stack.js"
import { CHART_VALUES, withPinnedImages } from "../../tools/render-deploy-images.js"

const STALE_VALUES = `falkordb:
  enabled: true
  image:
    # -- FalkorDB's image
    repository: docker.io/falkordb/falkordb
    tag: v4.16.3
    digest: ""
  resources: {}

valkey:
  image:
    repository: docker.io/valkey/valkey
    tag: 8.1.4
    digest: ""

other:
  image:
    repository: untouched
    tag: "1"
    digest: ""
`

/** `<name>.image` of a values text, read line by line: enough for the blocks this file writes. */
function imageOf(values: string, name: string): string {
  const block = new RegExp(`^${name}:\\n(?:[ #].*\\n|\\n)*`, "m").exec(values)?.[0] ?? ""
  const field = (key: string) => new RegExp(`^ {4}${key}: (.*)$`, "m").exec(block)?.[1] ?? ""
  return `${field("repository")}:${field("tag")}@${field("digest")}`
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

  it("the committed chart values name the module's images (npm run deploy-images writes them)", () => {
    const committed = readFileSync(CHART_VALUES, "utf8")
    assert.equal(withPinnedImages(committed), committed)
    assert.equal(imageOf(committed, "falkordb"), DEFAULT_FALKORDB_IMAGE)
    assert.equal(imageOf(committed, "valkey"), DEFAULT_VALKEY_IMAGE)
  })

  it("values naming other versions are rewritten, and only the memory images", () => {
    const rendered = withPinnedImages(STALE_VALUES)
    assert.equal(imageOf(rendered, "falkordb"), DEFAULT_FALKORDB_IMAGE)
    assert.equal(imageOf(rendered, "valkey"), DEFAULT_VALKEY_IMAGE)
    assert.equal(imageOf(rendered, "other"), 'untouched:"1"@""')
    assert.match(rendered, /# -- FalkorDB's image/)
  })

  it("values without one of the memory images are refused, naming it", () => {
    assert.throws(() => withPinnedImages("falkordb:\n  image:\n    repository: x\n    tag: y\n    digest: z\n"), /'valkey:'/)
  })
})
