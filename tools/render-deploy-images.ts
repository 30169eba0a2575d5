/**
 * Writes the memory stack's images into the chart's values (charts/opencode-server/values.yaml) from
 * dagger/src/memory-images.ts, or with --check exits 1 when the committed values differ: the module and the chart
 * (and deploy/, rendered from the chart) name the same pinned images.
 */
import { readFileSync, writeFileSync } from "node:fs"
import { fileURLToPath, pathToFileURL } from "node:url"

import { MEMORY_IMAGES } from "../dagger/src/memory-images.js"

export const CHART_VALUES = fileURLToPath(new URL("../charts/opencode-server/values.yaml", import.meta.url))

/** The values with `<name>.image.{repository,tag,digest}` set for each memory image (`<name>:` is a top-level key). */
export function withPinnedImages(values: string): string {
  let text = values
  for (const [name, image] of Object.entries(MEMORY_IMAGES)) {
    const block = new RegExp(`^${name}:\\n(?:[ #].*\\n|\\n)*`, "m").exec(text)
    if (!block || !/^ {2}image:$/m.test(block[0])) {
      throw new Error(`charts/opencode-server/values.yaml: expected a top-level '${name}:' with an 'image:' block`)
    }
    let rendered = block[0]
    for (const field of ["repository", "tag", "digest"] as const) {
      const line = new RegExp(`^( {4}${field}: ).*$`, "m")
      if (!line.test(rendered)) {
        throw new Error(`charts/opencode-server/values.yaml: '${name}.image.${field}' is missing`)
      }
      rendered = rendered.replace(line, `$1${image[field]}`)
    }
    text = text.slice(0, block.index) + rendered + text.slice(block.index + block[0].length)
  }
  return text
}

function main(): void {
  const committed = readFileSync(CHART_VALUES, "utf8")
  const rendered = withPinnedImages(committed)
  if (process.argv.includes("--check")) {
    if (committed !== rendered) {
      console.error(`${CHART_VALUES} names other memory images than dagger/src/memory-images.ts: run \`npm run deploy-images\``)
      process.exit(1)
    }
    return
  }
  writeFileSync(CHART_VALUES, rendered)
  console.log(`wrote ${CHART_VALUES}`)
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) {
  main()
}
