/**
 * Validates the build context before a Podman or Docker build, as build() does before a Dagger one:
 * `tsx tools/check-build-context.ts [--base-image REF] [--opencode-version V]`.
 */
import { parseArgs } from "node:util"
import { fileURLToPath } from "node:url"

import { validateBuildInputs } from "../dagger/src/build-context.js"
import { DEFAULT_BASE_IMAGE, DEFAULT_OPENCODE_VERSION, imageSpec } from "../dagger/src/image-spec.js"
import { diskReader } from "./build-context-on-disk.js"

const { values } = parseArgs({
  options: {
    "base-image": { type: "string", default: DEFAULT_BASE_IMAGE },
    "opencode-version": { type: "string", default: DEFAULT_OPENCODE_VERSION },
    context: { type: "string", default: fileURLToPath(new URL("..", import.meta.url)) },
  },
})

try {
  await validateBuildInputs(imageSpec, diskReader(values.context as string), {
    BASE_IMAGE: values["base-image"] as string,
    OPENCODE_VERSION: values["opencode-version"] as string,
  })
  console.log("build context ok")
} catch (error) {
  console.error(`build context invalid: ${(error as Error).message}`)
  process.exit(1)
}
