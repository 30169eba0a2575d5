/**
 * Validates the build context before a Podman or Docker build, as build() does before a Dagger one.
 * Run `npx tsx tools/check-build-context.ts --help` (after `npm ci` in the repository root) for the options.
 * Exit status: 0 valid, 1 invalid (the message names what is wrong), 2 bad usage.
 */
import { existsSync, statSync } from "node:fs"
import { resolve } from "node:path"
import { parseArgs } from "node:util"
import { fileURLToPath } from "node:url"

import { validateBuildInputs } from "../dagger/src/build-context.js"
import { DEFAULT_BASE_IMAGE, DEFAULT_OPENCODE_VERSION, imageSpec } from "../dagger/src/image-spec.js"
import { diskReader } from "./build-context-on-disk.js"

const REPOSITORY_ROOT = fileURLToPath(new URL("..", import.meta.url))

const USAGE = `usage: npx tsx tools/check-build-context.ts [--context DIR] [--base-image REF] [--opencode-version VERSION]

Checks a build context as \`dagger call build\` does before its first layer: the build arguments are set, every path
the Containerfile copies is there, config.json parses as OpenCode reads it (JSONC), and plugin/package.json pins the
same @opencode-ai/plugin release as OPENCODE_VERSION.

  --context DIR                the build context (default: the repository root, ${REPOSITORY_ROOT})
  --base-image REF             the BASE_IMAGE build argument (default: ${DEFAULT_BASE_IMAGE})
  --opencode-version VERSION   the OPENCODE_VERSION build argument (default: ${DEFAULT_OPENCODE_VERSION})
  -h, --help                   this text

Exit status: 0 valid, 1 invalid, 2 bad usage.`

function usageError(message: string): never {
  console.error(`check-build-context: ${message}\n\n${USAGE}`)
  process.exit(2)
}

let values: Record<string, string | boolean | undefined>
try {
  ;({ values } = parseArgs({
    options: {
      "base-image": { type: "string", default: DEFAULT_BASE_IMAGE },
      "opencode-version": { type: "string", default: DEFAULT_OPENCODE_VERSION },
      context: { type: "string", default: REPOSITORY_ROOT },
      help: { type: "boolean", short: "h", default: false },
    },
    strict: true,
    allowPositionals: false,
  }))
} catch (error) {
  // node's own messages name the option (ERR_PARSE_ARGS_UNKNOWN_OPTION, ..._INVALID_OPTION_VALUE, unexpected argument)
  usageError((error as Error).message.split("\n")[0])
}

if (values.help) {
  console.log(USAGE)
  process.exit(0)
}

const context = resolve(values.context as string)
if (!existsSync(context)) usageError(`--context ${context}: no such folder`)
if (!statSync(context).isDirectory()) usageError(`--context ${context}: not a folder`)

try {
  await validateBuildInputs(imageSpec, diskReader(context), {
    BASE_IMAGE: values["base-image"] as string,
    OPENCODE_VERSION: values["opencode-version"] as string,
  })
  console.log(`build context ok: ${context}`)
} catch (error) {
  console.error(`build context invalid (${context}): ${(error as Error).message}`)
  process.exit(1)
}
