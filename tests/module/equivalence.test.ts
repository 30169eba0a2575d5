/**
 * The Dagger pipeline and the Containerfile are two renderings of one spec: both are reduced here to the same list of
 * image operations (the Containerfile by a real Dockerfile parser, the pipeline by reading the Dagger SDK's own query
 * tree, which the SDK builds without an engine) and compared whole.
 */
import assert from "node:assert/strict"
import { readFileSync } from "node:fs"
import { describe, it } from "node:test"

import { Container, dag } from "@dagger.io/dagger"
import { Copy, DockerfileParser, Env, Healthcheck, Label } from "dockerfile-ast"

import { applyToContainer, substitute } from "../../dagger/src/apply-to-container.js"
import {
  DEFAULT_BASE_IMAGE,
  DEFAULT_OPENCODE_VERSION,
  imageSpec,
  STATE_DIRECTORIES,
  VOLUMES_LABEL,
} from "../../dagger/src/image-spec.js"
import { OpencodeServer } from "../../dagger/src/index.js"
import { instructionOf, renderContainerfile } from "../../dagger/src/render-containerfile.js"

const CONTAINERFILE = new URL("../../containers/opencode-server/Containerfile", import.meta.url)
const VALUES = { BASE_IMAGE: DEFAULT_BASE_IMAGE, OPENCODE_VERSION: DEFAULT_OPENCODE_VERSION }

type Operation = { instruction: string; detail: unknown }
type Query = { operation: string; args?: Record<string, any> }

function queryTree(value: unknown): Query[] {
  return (value as { _ctx: { _queryTree: Query[] } })._ctx._queryTree
}

function sourcePath(value: unknown): string {
  const last = queryTree(value).at(-1)
  return String(last?.args?.path)
}

/** Whitespace is insignificant to the shell here: the Containerfile wraps long commands over lines. */
function collapse(script: string): string {
  return script.replace(/\s+/g, " ").replace(/ ;/g, ";").trim()
}

/** A builder strips the quotes around a LABEL or ENV value. */
function unquote(value: string): string {
  return value.startsWith('"') && value.endsWith('"') ? JSON.parse(value) : value
}

/** The pipeline's operations, from the query tree of the Container that applyToContainer returns. */
function daggerOperations(container: Container): { operations: Operation[]; argumentsAtExec: string[][] } {
  const operations: Operation[] = []
  const argumentsAtExec: string[][] = []
  const mounted: string[] = []
  const buildArguments = new Set<string>()
  for (const { operation, args = {} } of queryTree(container)) {
    switch (operation) {
      case "from":
        operations.push({ instruction: "FROM", detail: args.address })
        break
      case "withLabel":
        // Dagger cannot declare a VOLUME; the volume step renders as this label (see apply-to-container.ts).
        if (args.name === VOLUMES_LABEL) operations.push({ instruction: "VOLUME", detail: JSON.parse(args.value) })
        else operations.push({ instruction: "LABEL", detail: `${args.name}=${args.value}` })
        break
      case "withEnvVariable":
        if (imageSpec.buildArguments.some((argument) => argument.name === args.name)) buildArguments.add(args.name)
        else operations.push({ instruction: "ENV", detail: `${args.name}=${args.value}` })
        break
      case "withoutEnvVariable":
        buildArguments.delete(args.name)
        break
      case "withMountedCache":
        assert.equal(args.sharing, "LOCKED", `cache at ${args.path} must use LOCKED sharing`)
        mounted.push(args.path)
        break
      case "withMountedFile":
        break
      case "withoutMount": {
        const index = mounted.indexOf(args.path)
        if (index >= 0) mounted.splice(index, 1)
        break
      }
      case "withExec":
        assert.deepEqual(args.args.slice(0, 2), ["/bin/sh", "-c"])
        operations.push({ instruction: "RUN", detail: { script: collapse(args.args[2]), caches: [...mounted] } })
        argumentsAtExec.push([...buildArguments].sort())
        break
      case "withFile":
        operations.push({ instruction: "COPY", detail: `${sourcePath(args.source)} -> ${args.path}` })
        break
      case "withDirectory":
        operations.push({ instruction: "COPY", detail: `${sourcePath(args.source)} -> ${args.path}` })
        break
      case "withWorkdir":
        operations.push({ instruction: "WORKDIR", detail: args.path })
        break
      case "withExposedPort":
        operations.push({ instruction: "EXPOSE", detail: String(args.port) })
        break
      case "withDockerHealthcheck":
        operations.push({
          instruction: "HEALTHCHECK",
          detail: { command: args.args, interval: args.interval, timeout: args.timeout, startPeriod: args.startPeriod, retries: String(args.retries) },
        })
        break
      case "withEntrypoint":
        operations.push({ instruction: "ENTRYPOINT", detail: args.args })
        break
      case "container":
        break
      default:
        assert.fail(`the equivalence test does not know the Dagger call ${operation}`)
    }
  }
  return { operations, argumentsAtExec }
}

/** The Containerfile's operations, parsed by dockerfile-ast, with ARG defaults substituted as a builder would. */
function containerfileOperations(text: string): { operations: Operation[]; argumentsAfterFrom: string[] } {
  const operations: Operation[] = []
  const argumentsAfterFrom: string[] = []
  const defaults: Record<string, string> = {}
  let seenFrom = false
  for (const instruction of DockerfileParser.parse(text).getInstructions()) {
    const keyword = instruction.getKeyword()
    const argumentValues = instruction.getArguments().map((argument) => argument.getValue())
    switch (keyword) {
      case "ARG": {
        const [name, value] = argumentValues[0].split("=")
        if (value !== undefined) defaults[name] = value
        if (seenFrom && name !== imageSpec.baseImageArgument.name) argumentsAfterFrom.push(name)
        break
      }
      case "FROM":
        seenFrom = true
        operations.push({ instruction: "FROM", detail: substitute(argumentValues[0], defaults) })
        break
      case "LABEL":
        for (const property of (instruction as Label).getProperties()) {
          operations.push({ instruction: "LABEL", detail: `${property.getName()}=${substitute(unquote(property.getUnescapedValue() ?? ""), defaults)}` })
        }
        break
      case "ENV":
        for (const property of (instruction as Env).getProperties()) {
          operations.push({ instruction: "ENV", detail: `${property.getName()}=${unquote(property.getUnescapedValue() ?? "")}` })
        }
        break
      case "RUN": {
        const script = collapse(instruction.getArgumentsContent() ?? "")
        const cleanup = script.match(/; rm -rf ((?:\S+\/\* ?)+)$/)
        const caches = cleanup ? cleanup[1].trim().split(" ").map((path) => path.replace(/\/\*$/, "")) : []
        operations.push({ instruction: "RUN", detail: { script: collapse(cleanup ? script.slice(0, cleanup.index) : script), caches } })
        break
      }
      case "COPY": {
        const paths = (instruction as Copy).getArguments().map((argument) => argument.getValue())
        const destination = paths.pop() as string
        for (const source of paths) {
          const target = source.endsWith("/") || !destination.endsWith("/") ? destination : destination + source.split("/").pop()
          operations.push({ instruction: "COPY", detail: `${source} -> ${target}` })
        }
        break
      }
      case "WORKDIR":
      case "EXPOSE":
        operations.push({ instruction: keyword, detail: argumentValues[0] })
        break
      case "HEALTHCHECK": {
        const flags = Object.fromEntries(
          (instruction as Healthcheck).getFlags().map((flag) => [flag.getName(), flag.getValue()]),
        )
        const command = JSON.parse(text.slice(text.indexOf("CMD [", text.indexOf("HEALTHCHECK")) + 4).split("\n")[0])
        operations.push({
          instruction: "HEALTHCHECK",
          detail: { command, interval: flags.interval, timeout: flags.timeout, startPeriod: flags["start-period"], retries: flags.retries },
        })
        break
      }
      case "ENTRYPOINT":
        operations.push({ instruction: "ENTRYPOINT", detail: JSON.parse(instruction.getArgumentsContent() ?? "") })
        break
      case "VOLUME":
        operations.push({ instruction: "VOLUME", detail: JSON.parse(instruction.getArgumentsContent() ?? "") })
        break
      default:
        assert.fail(`the equivalence test does not know the instruction ${keyword}`)
    }
  }
  return { operations, argumentsAfterFrom }
}

describe("the Dagger pipeline and the Containerfile render the same image", () => {
  const committed = readFileSync(CONTAINERFILE, "utf8")
  const dagger = daggerOperations(applyToContainer(imageSpec, dag.directory(), VALUES))
  const containerfile = containerfileOperations(committed)

  it("the committed Containerfile is the rendering of the spec", () => {
    assert.equal(committed, renderContainerfile(imageSpec), "run `npm run containerfile`")
  })

  it("exportContainerfile() returns the committed Containerfile, byte for byte", () => {
    const file = new OpencodeServer(dag.directory()).exportContainerfile()
    const [operation] = queryTree(file)
    assert.equal(operation.operation, "file")
    assert.equal(operation.args?.name, "Containerfile")
    assert.equal(operation.args?.contents, committed)
  })

  it("both renderings hold the same operations, in the same order", () => {
    assert.deepEqual(containerfile.operations, dagger.operations)
  })

  it("every step of the spec appears in both, in the spec's order", () => {
    const collapseRepeats = (instructions: string[]) =>
      instructions.filter((instruction, index) => index === 0 || instruction !== instructions[index - 1])
    const expected = collapseRepeats(["FROM", ...imageSpec.steps.map(instructionOf)])
    assert.deepEqual(collapseRepeats(dagger.operations.map((operation) => operation.instruction)), expected)
    assert.deepEqual(collapseRepeats(containerfile.operations.map((operation) => operation.instruction)), expected)
  })

  it("build arguments reach every RUN in both, and never the image's environment", () => {
    const names = imageSpec.buildArguments.map((argument) => argument.name).sort()
    assert.deepEqual(containerfile.argumentsAfterFrom.sort(), names)
    for (const atExec of dagger.argumentsAtExec) assert.deepEqual(atExec, names)
    const env = dagger.operations.filter((operation) => operation.instruction === "ENV").map((operation) => operation.detail)
    for (const name of names) assert.ok(!env.some((entry) => String(entry).startsWith(`${name}=`)))
  })

  it("apt, npm and pip run behind cache volumes in Dagger and leave no cache in a Containerfile layer", () => {
    const runs = dagger.operations.filter((operation) => operation.instruction === "RUN")
    const cached = runs.flatMap((operation) => (operation.detail as { caches: string[] }).caches)
    for (const path of ["/var/cache/apt", "/var/lib/apt/lists", "/root/.npm", "/root/.cache/pip"]) {
      assert.ok(cached.includes(path), `${path} is a cache volume`)
    }
  })

  it("a different base image and OpenCode version reach both renderings", () => {
    const values = { BASE_IMAGE: "node:20-slim@sha256:" + "a".repeat(64), OPENCODE_VERSION: "1.2.3" }
    const operations = daggerOperations(applyToContainer(imageSpec, dag.directory(), values)).operations
    assert.deepEqual(operations[0], { instruction: "FROM", detail: values.BASE_IMAGE })
    const overridden = committed
      .replace(`ARG BASE_IMAGE=${DEFAULT_BASE_IMAGE}`, `ARG BASE_IMAGE=${values.BASE_IMAGE}`)
      .replace(`ARG OPENCODE_VERSION=${DEFAULT_OPENCODE_VERSION}`, `ARG OPENCODE_VERSION=${values.OPENCODE_VERSION}`)
    assert.deepEqual(containerfileOperations(overridden).operations[0], operations[0])
    assert.ok(
      operations.some((operation) => operation.detail === `org.opencontainers.image.base.name=${values.BASE_IMAGE}`),
    )
  })

  it("the state directories are VOLUMEs in the Containerfile, the volumes label in Dagger, and made group-0 writable in both", () => {
    const volumes = (operations: Operation[]) => operations.filter((operation) => operation.instruction === "VOLUME")
    assert.deepEqual(volumes(containerfile.operations), [{ instruction: "VOLUME", detail: STATE_DIRECTORIES }])
    assert.deepEqual(volumes(dagger.operations), volumes(containerfile.operations))
    assert.ok(STATE_DIRECTORIES.includes("/root/.local/share/opencode") && STATE_DIRECTORIES.includes("/root/.local/state/opencode"))
    assert.ok(STATE_DIRECTORIES.includes("/root/.local/share/opencode-memory"))
    // The directories exist (with their modes) before they are declared: the RUN that makes them precedes VOLUME.
    const index = dagger.operations.findIndex((operation) => operation.instruction === "VOLUME")
    const made = dagger.operations
      .slice(0, index)
      .filter((operation) => operation.instruction === "RUN")
      .map((operation) => (operation.detail as { script: string }).script)
      .find((script) => script.includes(`mkdir -p ${STATE_DIRECTORIES.join(" ")}`))
    assert.ok(made, "a RUN before VOLUME makes every state directory")
    assert.match(made, /chmod -R g=u \/root\/\.local \/root\/\.cache/)
    assert.match(made, /chmod g\+rx \/root/)
    const env = dagger.operations.filter((operation) => operation.instruction === "ENV").map((operation) => operation.detail)
    assert.ok(env.includes("HOME=/root"), "HOME is set for uids without a passwd entry")
    assert.ok(env.includes(`OPENCODE_SERVER_STATE_DIRS=${STATE_DIRECTORIES.join(":")}`))
  })
})
