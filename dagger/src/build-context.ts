import { parse as parseJsonc } from "./jsonc/parser.js"
import { printParseErrorCode, type ParseError } from "./jsonc/types.js"

import type { BuildArgument, ImageSpec } from "./image-spec.js"

/** Read access to a build context: a Dagger Directory or a folder on disk. */
export interface BuildContextReader {
  exists(path: string): Promise<boolean>
  read(path: string): Promise<string>
}

export class BuildInputError extends Error {
  override name = "BuildInputError"
}

const REQUIRED_DIRECTORIES = ["plugin", "graphiti", "scripts"]

/** Every file the spec copies, with the directories it copies whole. */
function requiredPaths(spec: ImageSpec): string[] {
  const paths = spec.steps.flatMap((step) => (step.kind === "copy" ? step.sources : []))
  return [...new Set(paths.map((path) => path.replace(/\/$/, "")))]
}

/** Fails before any layer is built when an argument is empty or the context lacks what the image copies. */
export async function validateBuildInputs(
  spec: ImageSpec,
  context: BuildContextReader,
  values: Record<string, string>,
): Promise<void> {
  for (const argument of [spec.baseImageArgument, ...spec.buildArguments]) {
    validateArgument(argument, values[argument.name])
  }
  for (const path of [...REQUIRED_DIRECTORIES, ...requiredPaths(spec)]) {
    if (!(await context.exists(path))) {
      throw new BuildInputError(`${path} is missing from the build context: the image copies it`)
    }
  }
  parseJsonObject("config.json", await context.read("config.json"), parseOpencodeConfig)
  const pluginPackage = parseJsonObject("plugin/package.json", await context.read("plugin/package.json"), parseStrictJson)
  const pinned = (pluginPackage.dependencies as Record<string, string> | undefined)?.["@opencode-ai/plugin"]
  const opencodeVersion = values.OPENCODE_VERSION
  if (opencodeVersion !== undefined && pinned !== opencodeVersion) {
    throw new BuildInputError(
      `plugin/package.json pins @opencode-ai/plugin ${pinned ?? "(nothing)"} but OPENCODE_VERSION is ${opencodeVersion}: ` +
        "OpenCode would reinstall the plugin package from the network on its first request",
    )
  }
}

export function validateArgument(argument: BuildArgument, value: string | undefined): void {
  if (value === undefined || value.trim() === "") {
    throw new BuildInputError(`${argument.name} is empty; expected: ${argument.description} (e.g. ${argument.example})`)
  }
  if (/\s/.test(value)) {
    throw new BuildInputError(`${argument.name} must not contain whitespace: ${JSON.stringify(value)}`)
  }
}

/** npm reads package.json as strict JSON. */
function parseStrictJson(path: string, text: string): unknown {
  try {
    return JSON.parse(text)
  } catch (error) {
    throw new BuildInputError(`${path} is not valid JSON: ${(error as Error).message}`)
  }
}

/**
 * OpenCode reads its config as JSONC, with the parser and options it bundles (jsonc-parser, trailing commas allowed,
 * comments allowed) and names every syntax error by line and column. Its schema is checked in the image build, by the
 * opencode binary itself (image-spec.ts).
 */
export function parseOpencodeConfig(path: string, text: string): unknown {
  // OpenCode skips an empty file as if it were absent (a file of only spaces or comments is an error)
  if (text === "") return {}
  const errors: ParseError[] = []
  const parsed: unknown = parseJsonc(text, errors, { allowTrailingComma: true })
  if (errors.length > 0) {
    const details = errors.map((error) => {
      const before = text.slice(0, error.offset).split("\n")
      return `${printParseErrorCode(error.error)} at line ${before.length}, column ${before[before.length - 1].length + 1}`
    })
    throw new BuildInputError(`${path} is not valid JSON(C), as OpenCode reads it: ${details.join("; ")}`)
  }
  return parsed
}

function parseJsonObject(
  path: string,
  text: string,
  parse: (path: string, text: string) => unknown,
): Record<string, unknown> {
  const parsed = parse(path, text)
  if (parsed === null || typeof parsed !== "object" || Array.isArray(parsed)) {
    throw new BuildInputError(`${path} must hold a JSON object`)
  }
  return parsed as Record<string, unknown>
}
