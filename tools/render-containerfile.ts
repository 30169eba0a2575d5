/**
 * Writes containers/opencode-server/Containerfile from the image spec, or with --check exits 1 when the committed file
 * differs from the rendering.
 */
import { readFileSync, writeFileSync } from "node:fs"
import { fileURLToPath } from "node:url"

import { imageSpec } from "../dagger/src/image-spec.js"
import { renderContainerfile } from "../dagger/src/render-containerfile.js"

const containerfile = fileURLToPath(new URL("../containers/opencode-server/Containerfile", import.meta.url))
const rendered = renderContainerfile(imageSpec)

if (process.argv.includes("--check")) {
  let committed = ""
  try {
    committed = readFileSync(containerfile, "utf8")
  } catch {
    // a missing file differs like any other
  }
  if (committed !== rendered) {
    console.error(`${containerfile} differs from dagger/src/image-spec.ts: run \`npm run containerfile\``)
    process.exit(1)
  }
} else {
  writeFileSync(containerfile, rendered)
  console.log(`wrote ${containerfile}`)
}
