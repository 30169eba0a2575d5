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
  parseJsonObject("config.json", await context.read("config.json"))
  const pluginPackage = parseJsonObject("plugin/package.json", await context.read("plugin/package.json"))
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

function parseJsonObject(path: string, text: string): Record<string, unknown> {
  let parsed: unknown
  try {
    parsed = JSON.parse(text)
  } catch (error) {
    throw new BuildInputError(`${path} is not valid JSON: ${(error as Error).message}`)
  }
  if (parsed === null || typeof parsed !== "object" || Array.isArray(parsed)) {
    throw new BuildInputError(`${path} must hold a JSON object`)
  }
  return parsed as Record<string, unknown>
}
