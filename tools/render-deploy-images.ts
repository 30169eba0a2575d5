/**
 * Writes the memory stack's `image:` lines in deploy/ from dagger/src/memory-images.ts, or with --check exits 1 when
 * a committed file differs from that rendering: the module and the pod name the same pinned images.
 */
import { readFileSync, writeFileSync } from "node:fs"
import { fileURLToPath, pathToFileURL } from "node:url"

import { MEMORY_IMAGES, pinnedReference } from "../dagger/src/memory-images.js"

export const POD_YAML = fileURLToPath(new URL("../deploy/opencode-memory-pod.yaml", import.meta.url))

/** The pod YAML with each memory container's `image:` (the line after its `- name:`) set to its pinned reference. */
export function withPinnedImages(podYaml: string): string {
  let text = podYaml
  for (const [container, image] of Object.entries(MEMORY_IMAGES)) {
    const line = new RegExp(`(^\\s*- name: ${container}\\n\\s+image: )\\S+$`, "gm")
    const found = text.match(line)?.length ?? 0
    if (found !== 1) {
      throw new Error(`deploy/opencode-memory-pod.yaml: expected one container '${container}' with an image line, found ${found}`)
    }
    text = text.replace(line, `$1${pinnedReference(image)}`)
  }
  return text
}

function main(): void {
  const committed = readFileSync(POD_YAML, "utf8")
  const rendered = withPinnedImages(committed)
  if (process.argv.includes("--check")) {
    if (committed !== rendered) {
      console.error(`${POD_YAML} names other memory images than dagger/src/memory-images.ts: run \`npm run deploy-images\``)
      process.exit(1)
    }
    return
  }
  writeFileSync(POD_YAML, rendered)
  console.log(`wrote ${POD_YAML}`)
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) {
  main()
}
