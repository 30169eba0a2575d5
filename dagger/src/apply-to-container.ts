import { CacheSharingMode, Container, dag, Directory, type Platform } from "@dagger.io/dagger"

import { VOLUMES_LABEL, type ImageSpec, type ShellCommand, type Step } from "./image-spec.js"
import { containerOn } from "./platform-container.js"

/** Values of the spec's build arguments, by name (BASE_IMAGE, OPENCODE_VERSION, ...). */
export type ArgumentValues = Record<string, string>

/**
 * Builds the spec on a Dagger container: the same steps as the Containerfile, in the same order, except that cache
 * directories are cache volumes (so nothing needs emptying) and build arguments are set only while a step runs.
 * On `platform` (as `--platform` does for a Containerfile build), else on the engine's own platform.
 */
export function applyToContainer(spec: ImageSpec, source: Directory, values: ArgumentValues, platform?: Platform): Container {
  let container = containerOn(platform).from(values[spec.baseImageArgument.name])
  for (const step of spec.steps) {
    container = applyStep(container, step, source, spec, values, platform)
  }
  return container
}

/** A command as one shell line (the Containerfile splits long ones over several). */
function shellLine(command: ShellCommand): string {
  return typeof command === "string" ? command : command.join(" ")
}

/** The script a run step executes; identical to the Containerfile's RUN but for the cache cleanup. */
function runScript(commands: ShellCommand[]): string {
  return ["set -eux", ...commands.map(shellLine)].join("; ")
}

function applyStep(
  container: Container,
  step: Step,
  source: Directory,
  spec: ImageSpec,
  values: ArgumentValues,
  platform?: Platform,
) {
  switch (step.kind) {
    case "label":
      return Object.entries(step.labels).reduce(
        (next, [key, value]) => next.withLabel(key, substitute(value, values)),
        container,
      )
    case "env":
      return Object.entries(step.variables).reduce(
        (next, [key, value]) => next.withEnvVariable(key, substitute(value, values), { expand: true }),
        container,
      )
    case "workdir":
      return container.withWorkdir(step.path)
    case "run":
      return applyRun(container, step, spec, values, platform)
    case "copy":
      return step.sources.reduce((next, path) => {
        if (path.endsWith("/")) return next.withDirectory(step.destination, source.directory(path))
        const destination = step.destination.endsWith("/")
          ? step.destination + path.split("/").pop()
          : step.destination
        return next.withFile(destination, source.file(path))
      }, container)
    case "expose":
      return container.withExposedPort(step.port)
    case "healthcheck":
      return container.withDockerHealthcheck(step.command, {
        interval: step.interval,
        timeout: step.timeout,
        startPeriod: step.startPeriod,
        retries: step.retries,
      })
    case "entrypoint":
      return container.withEntrypoint(step.args)
    case "volume":
      // Dagger's Container API has no VOLUME (the engine keeps image-config Volumes only from a Dockerfile build):
      // the closest is to say it in the image's config as a label; the directories and modes come from a run step.
      return container.withLabel(VOLUMES_LABEL, JSON.stringify(step.paths))
  }
}

/**
 * A cache volume per platform: the engine holds a LOCKED volume for one exec at a time, whatever the platform
 * (core/container.go, lockMountedCaches), so with one name the amd64 and arm64 builds of publish-multi-platform would
 * take turns instead of running side by side; and apt's and pip's caches hold platform-specific packages anyway.
 * Undefined (the engine's own platform) has a name of its own.
 */
export function cacheVolumeName(volume: string, platform?: Platform): string {
  return `${volume}-${platform ? platform.replace(/[^a-z0-9]+/gi, "-") : "engine-platform"}`
}

function applyRun(
  container: Container,
  step: Extract<Step, { kind: "run" }>,
  spec: ImageSpec,
  values: ArgumentValues,
  platform?: Platform,
): Container {
  let prepared = container
  for (const cache of step.caches) {
    prepared = prepared.withMountedCache(cache.path, dag.cacheVolume(cacheVolumeName(cache.volume, platform)), {
      sharing: CacheSharingMode.Locked,
    })
  }
  for (const path of step.maskedFiles ?? []) {
    prepared = prepared.withMountedFile(path, dag.file("masked", ""))
  }
  // In a Containerfile, ARGs declared after FROM are environment variables of RUN steps only, never of the image.
  for (const argument of spec.buildArguments) {
    prepared = prepared.withEnvVariable(argument.name, values[argument.name])
  }
  let ran = prepared.withExec(["/bin/sh", "-c", runScript(step.commands)])
  for (const argument of spec.buildArguments) {
    ran = ran.withoutEnvVariable(argument.name)
  }
  for (const path of [...(step.maskedFiles ?? []), ...step.caches.map((cache) => cache.path)]) {
    ran = ran.withoutMount(path)
  }
  return ran
}

/** Replaces `${NAME}` for build arguments; other references (such as `${PATH}`) are left for the container to expand. */
export function substitute(value: string, values: ArgumentValues): string {
  return value.replace(/\$\{([A-Z_][A-Z0-9_]*)\}/g, (whole, name: string) => values[name] ?? whole)
}
