import type { ImageSpec, ShellCommand, Step } from "./image-spec.js"

const INDENT = "    "

const GENERATED_HEADER = [
  "# Rendered from dagger/src/image-spec.ts by `npm run containerfile`: edit the spec, not this file.",
  "# Build with Podman/Buildah using `--format docker` (the OCI format drops HEALTHCHECK), or with Docker.",
]

/** Renders the spec as Containerfile text, one instruction per step, in the spec's order. */
export function renderContainerfile(spec: ImageSpec): string {
  const base = spec.baseImageArgument
  const blocks: string[] = [
    [...GENERATED_HEADER, platformsLine(spec.platforms), ...checkovSkipLines(spec)].join("\n"),
    `# ${base.description}\nARG ${base.name}=${base.default}\nFROM \${${base.name}}`,
    [`ARG ${base.name}`, ...spec.buildArguments.map((arg) => `# ${arg.description}\nARG ${arg.name}=${arg.default}`)].join(
      "\n",
    ),
  ]
  let previous: Step | undefined
  for (const step of spec.steps) {
    const rendered = renderStep(step)
    // Consecutive COPY lines read as one block, as in official images.
    if (previous?.kind === "copy" && step.kind === "copy") blocks[blocks.length - 1] += "\n" + rendered
    else blocks.push(rendered)
    previous = step
  }
  return blocks.join("\n\n") + "\n"
}

/** checkov reads `# checkov:skip=CHECK:reason` anywhere in a Dockerfile; the reason stays beside the check. */
function checkovSkipLines(spec: ImageSpec): string[] {
  return (spec.checkovSkips ?? []).map((skip) => `# checkov:skip=${skip.check}:${skip.reason}`)
}

/** The header line naming the supported platforms, so a reader of the Containerfile alone knows them. */
function platformsLine(platforms: string[]): string {
  const example = platforms.at(-1)
  return `# Platforms: ${platforms.join(", ")}; pick one with --platform (e.g. --platform ${example}); any other is unsupported.`
}

/** The instruction keyword each step kind renders to; the equivalence test checks both renderings follow the spec's order. */
export function instructionOf(step: Step): string {
  return {
    label: "LABEL",
    env: "ENV",
    workdir: "WORKDIR",
    run: "RUN",
    copy: "COPY",
    expose: "EXPOSE",
    healthcheck: "HEALTHCHECK",
    entrypoint: "ENTRYPOINT",
    volume: "VOLUME",
  }[step.kind]
}

function renderStep(step: Step): string {
  switch (step.kind) {
    case "label":
      return "LABEL " + continued(Object.entries(step.labels).map(([key, value]) => `${key}=${quote(value)}`))
    case "env":
      return "ENV " + continued(Object.entries(step.variables).map(([key, value]) => `${key}=${quote(value)}`))
    case "workdir":
      return `WORKDIR ${step.path}`
    case "run": {
      const comments = [`# ${step.why}`]
      for (const exception of step.lintExceptions ?? []) {
        comments.push(`# ${exception.rule}: ${exception.reason}`)
      }
      const ignored = step.lintExceptions?.map((exception) => exception.rule) ?? []
      if (ignored.length > 0) comments.push(`# hadolint ignore=${ignored.join(",")}`)
      // The cache directories are Dagger cache volumes; in a Containerfile layer they are emptied before it is committed.
      const cleanup = step.caches.length ? [`rm -rf ${step.caches.map((cache) => `${cache.path}/*`).join(" ")}`] : []
      const lines = ["set -eux", ...step.commands, ...cleanup].map((command, index) =>
        index === 0 ? renderCommand(command) : INDENT + renderCommand(command),
      )
      return `${comments.join("\n")}\nRUN ${lines.join("; \\\n")}`
    }
    case "copy":
      return `COPY ${[...step.sources, step.destination].join(" ")}`
    case "expose":
      return `EXPOSE ${step.port}`
    case "healthcheck":
      return (
        `HEALTHCHECK --interval=${step.interval} --timeout=${step.timeout} ` +
        `--start-period=${step.startPeriod} --retries=${step.retries} \\\n${INDENT}CMD ${JSON.stringify(step.command)}`
      )
    case "entrypoint":
      return `ENTRYPOINT [${step.args.map((arg) => JSON.stringify(arg)).join(", ")}]`
    case "volume":
      return `VOLUME [${step.paths.map((path) => JSON.stringify(path)).join(", ")}]`
  }
}

function renderCommand(command: ShellCommand): string {
  if (typeof command === "string") return command
  const [head, ...words] = command
  return [head, ...words.map((word) => INDENT + word)].join(` \\\n${INDENT}`) + ` \\\n${INDENT}`
}

function continued(items: string[]): string {
  return items.join(` \\\n${INDENT}`)
}

function quote(value: string): string {
  return /^[A-Za-z0-9_./:${}-]+$/.test(value) ? value : JSON.stringify(value)
}
