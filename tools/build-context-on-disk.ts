/** The build context as a folder on disk, for the same validation that build() runs on a Dagger Directory. */
import { existsSync, readFileSync } from "node:fs"
import { join } from "node:path"

import type { BuildContextReader } from "../dagger/src/build-context.js"

export function diskReader(root: string): BuildContextReader {
  return {
    exists: async (path) => existsSync(join(root, path)),
    read: async (path) => readFileSync(join(root, path), "utf8"),
  }
}
