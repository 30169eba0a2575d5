/**
 * Runs the Dagger TypeScript SDK's own module introspector over dagger/src, as the engine does when it loads the
 * module, and checks the functions `dagger call --help` will show. The generated client is stood in for by the
 * package's client.gen.d.ts copied to a file named client.gen.ts (the scanner resolves core types only from that name).
 */
import assert from "node:assert/strict"
import { copyFileSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs"
import { createRequire } from "node:module"
import { tmpdir } from "node:os"
import { dirname, join } from "node:path"
import { after, before, describe, it } from "node:test"
import { fileURLToPath, pathToFileURL } from "node:url"

import { DEFAULT_BASE_IMAGE, DEFAULT_OPENCODE_VERSION, SUPPORTED_PLATFORMS } from "../../dagger/src/image-spec.js"
import { DEFAULT_FALKORDB_IMAGE, DEFAULT_VALKEY_IMAGE } from "../../dagger/src/memory-stack.js"

const root = fileURLToPath(new URL("../..", import.meta.url))
const sdkRoot = dirname(dirname(createRequire(import.meta.url).resolve("@dagger.io/dagger")))
const sdkPackageRoot = dirname(sdkRoot)

type TypeDef = { kind: string; name?: string; typeDef?: TypeDef }
type Argument = { name: string; description: string; type: TypeDef; isOptional: boolean; defaultValue?: unknown; defaultPath?: string; ignore?: string[] }
type Method = { name: string; description: string; arguments: Record<string, Argument>; returnType: TypeDef; isCheck: boolean; cache?: string }

describe("the Dagger module as the SDK's introspector sees it", () => {
  let workdir: string
  let object: { description: string; _constructor: { arguments: Record<string, Argument> }; methods: Record<string, Method> }

  before(async () => {
    workdir = mkdtempSync(join(tmpdir(), "dagger-introspect-"))
    copyFileSync(join(sdkPackageRoot, "dist/src/api/client.gen.d.ts"), join(workdir, "client.gen.ts"))
    const sources = readdirSync(join(root, "dagger/src")).map((name) => join(root, "dagger/src", name))
    const introspector = join(sdkPackageRoot, "dist/src/module/introspector/index.js")
    const { scan } = await import(pathToFileURL(introspector).href)
    const module = await scan([...sources, join(workdir, "client.gen.ts")], "opencode-server", false)
    object = module.objects.OpencodeServer
    assert.ok(object, `no OpencodeServer object; found: ${Object.keys(module.objects).join(", ")}`)
  })
  after(() => rmSync(workdir, { recursive: true, force: true }))

  /** A type as written in the tests: STRING_KIND, Container, Platform[] for a list of Platform. */
  const typeName = (type: TypeDef): string => (type.typeDef ? `${typeName(type.typeDef)}[]` : (type.name ?? type.kind))

  const signature = (method: Method) =>
    Object.fromEntries(
      Object.values(method.arguments).map((argument) => [
        argument.name,
        { type: typeName(argument.type), optional: argument.isOptional, default: argument.defaultValue },
      ]),
    )

  it("the object is named after the module and documented", () => {
    assert.match(object.description, /OpenCode server image/)
  })

  it("has exactly the documented functions: build, the three multi-platform ones, exportContainerfile, healthcheck, serve and two checks", () => {
    assert.deepEqual(Object.keys(object.methods).sort(), [
      "acceptanceCriteria",
      "build",
      "containerfileIsCurrent",
      "exportContainerfile",
      "healthcheck",
      "multiPlatformTarball",
      "platformVariants",
      "publishMultiPlatform",
      "serve",
    ])
    for (const method of Object.values(object.methods)) {
      assert.ok(method.description.length > 40, `${method.name} needs a description for --help`)
      for (const argument of Object.values(method.arguments)) {
        assert.ok(argument.description.length > 10, `${method.name}(${argument.name}) needs a description`)
        assert.ok(!/@\w*$/.test(argument.description), `${method.name}(${argument.name}) description was cut at an @`)
      }
    }
  })

  it("the constructor takes the repository root, uploading only what the image needs (the same list as .dockerignore)", () => {
    const source = object._constructor.arguments.source
    assert.equal(source.type.name, "Directory")
    assert.equal(source.defaultPath, "/")
    assert.ok(source.description.length > 20)
    const dockerignore = readFileSync(join(root, ".dockerignore"), "utf8")
      .split("\n")
      .filter((line) => line.trim() && !line.startsWith("#"))
    assert.deepEqual(source.ignore, dockerignore)
  })

  // A Platform argument left out is undefined, and the module then sends container() without one: the engine's own
  // platform (core/schema/container.go, container). platforms.test.ts checks the query.
  const platformArgument = { platform: { type: "Platform", optional: true, default: undefined } }

  it("build returns a Container and takes the base image, OpenCode version and platform, defaulting to the spec's and the engine's", () => {
    const build = object.methods.build
    assert.equal(build.returnType.name, "Container")
    assert.deepEqual(signature(build), {
      baseImage: { type: "STRING_KIND", optional: false, default: DEFAULT_BASE_IMAGE },
      opencodeVersion: { type: "STRING_KIND", optional: false, default: DEFAULT_OPENCODE_VERSION },
      ...platformArgument,
    })
  })

  it("the platform arguments are Dagger's Platform scalar and their help names the supported platforms", () => {
    for (const name of ["build", "healthcheck", "serve"]) {
      const platform = object.methods[name].arguments.platform
      assert.deepEqual(platform.type, { kind: "SCALAR_KIND", name: "Platform" }, `${name}(platform) is the Platform scalar`)
      for (const supported of SUPPORTED_PLATFORMS) assert.match(platform.description, new RegExp(supported), `${name}(platform) names ${supported}`)
      assert.match(platform.description, /default: the engine's\s+own/)
    }
    for (const name of ["platformVariants", "publishMultiPlatform", "multiPlatformTarball"]) {
      const platforms = object.methods[name].arguments.platforms
      assert.deepEqual(platforms.type, { kind: "LIST_KIND", typeDef: { kind: "SCALAR_KIND", name: "Platform" } })
      assert.equal(platforms.isOptional, true)
      for (const supported of SUPPORTED_PLATFORMS) assert.match(platforms.description, new RegExp(supported))
      assert.match(platforms.description, /default: both/)
    }
    assert.deepEqual(SUPPORTED_PLATFORMS, ["linux/amd64", "linux/arm64"], "\"both\" in the help means these two")
  })

  const multiPlatformArguments = {
    platforms: { type: "Platform[]", optional: true, default: undefined },
    baseImage: { type: "STRING_KIND", optional: false, default: DEFAULT_BASE_IMAGE },
    opencodeVersion: { type: "STRING_KIND", optional: false, default: DEFAULT_OPENCODE_VERSION },
  }

  it("platformVariants returns a list of Containers, one per platform, and its help has a dagger call example", () => {
    const variants = object.methods.platformVariants
    assert.deepEqual(variants.returnType, { kind: "LIST_KIND", typeDef: { kind: "OBJECT_KIND", name: "Container" } })
    assert.deepEqual(signature(variants), multiPlatformArguments)
    assert.match(variants.description, /platformVariants/)
    assert.match(variants.description, /dagger call platform-variants /)
  })

  it("publishMultiPlatform pushes to an address, takes optional registry credentials (the password a Secret), and is never cached", () => {
    const publish = object.methods.publishMultiPlatform
    assert.equal(publish.returnType.kind, "STRING_KIND")
    assert.deepEqual(signature(publish), {
      address: { type: "STRING_KIND", optional: false, default: undefined },
      ...multiPlatformArguments,
      registryUsername: { type: "STRING_KIND", optional: true, default: undefined },
      registryPassword: { type: "Secret", optional: true, default: undefined },
    })
    assert.equal(publish.cache, "never", "a cached call would return an earlier digest without pushing")
    assert.match(publish.description, /dagger call publish-multi-platform --address=/)
  })

  it("multiPlatformTarball returns a File (an OCI archive) and its help shows how to save it", () => {
    const tarball = object.methods.multiPlatformTarball
    assert.equal(tarball.returnType.name, "File")
    assert.deepEqual(signature(tarball), multiPlatformArguments)
    assert.match(tarball.description, /dagger call multi-platform-tarball export --path=/)
  })

  it("exportContainerfile returns a File and takes nothing", () => {
    assert.equal(object.methods.exportContainerfile.returnType.name, "File")
    assert.deepEqual(object.methods.exportContainerfile.arguments, {})
  })

  const memoryArguments = {
    falkordbImage: { type: "STRING_KIND", optional: false, default: DEFAULT_FALKORDB_IMAGE },
    valkeyImage: { type: "STRING_KIND", optional: false, default: DEFAULT_VALKEY_IMAGE },
    withoutMemory: { type: "BOOLEAN_KIND", optional: false, default: false },
  }

  it("healthcheck returns the report as a String, takes the password as a Secret and the memory stack's images, and is never cached", () => {
    const healthcheck = object.methods.healthcheck
    assert.equal(healthcheck.returnType.kind, "STRING_KIND")
    assert.deepEqual(signature(healthcheck), {
      password: { type: "Secret", optional: true, default: undefined },
      username: { type: "STRING_KIND", optional: false, default: "opencode" },
      baseImage: { type: "STRING_KIND", optional: false, default: DEFAULT_BASE_IMAGE },
      opencodeVersion: { type: "STRING_KIND", optional: false, default: DEFAULT_OPENCODE_VERSION },
      attempts: { type: "INTEGER_KIND", optional: false, default: 45 },
      ...memoryArguments,
      ...platformArgument,
    })
    assert.equal(healthcheck.cache, "never")
  })

  it("serve returns a Service and takes the same credentials, image and memory stack arguments", () => {
    const serve = object.methods.serve
    assert.equal(serve.returnType.name, "Service")
    assert.deepEqual(signature(serve), {
      password: { type: "Secret", optional: true, default: undefined },
      username: { type: "STRING_KIND", optional: false, default: "opencode" },
      baseImage: { type: "STRING_KIND", optional: false, default: DEFAULT_BASE_IMAGE },
      opencodeVersion: { type: "STRING_KIND", optional: false, default: DEFAULT_OPENCODE_VERSION },
      ...memoryArguments,
      ...platformArgument,
      allowNoPassword: { type: "BOOLEAN_KIND", optional: false, default: false },
      startPeriod: { type: "INTEGER_KIND", optional: false, default: 40 },
      hostEmulation: { type: "BOOLEAN_KIND", optional: false, default: false },
    })
  })

  it("acceptanceCriteria and containerfileIsCurrent are checks, nothing else is, and both return the Container they ran", () => {
    const checks = Object.values(object.methods).filter((method) => method.isCheck).map((method) => method.name)
    assert.deepEqual(checks.sort(), ["acceptanceCriteria", "containerfileIsCurrent"])
    for (const name of checks) {
      assert.equal(object.methods[name].returnType.name, "Container", `${name} returns its Container (dagger check syncs it)`)
      assert.deepEqual(object.methods[name].arguments, {})
    }
  })

  it("the CI workflow calls only functions and arguments the module has, and runs the checks", () => {
    const workflow = readFileSync(join(root, ".github/workflows/opencode-server-image.yml"), "utf8")
    const kebab = (name: string) => name.replace(/[A-Z]/g, (letter) => `-${letter.toLowerCase()}`)
    const calls = [...workflow.matchAll(/^\s+args: (\S+)(.*)$/gm)]
    assert.ok(calls.length >= 1)
    for (const [, fn, rest] of calls) {
      const method = Object.values(object.methods).find((candidate) => kebab(candidate.name) === fn)
      assert.ok(method, `the workflow calls ${fn}, which the module does not have`)
      for (const [, flag] of rest.matchAll(/--([a-z-]+)/g)) {
        assert.ok(Object.values(method.arguments).some((argument) => kebab(argument.name) === flag), `${fn} has no --${flag}`)
      }
    }
    assert.match(workflow, /verb: check/)
    assert.doesNotMatch(workflow, /export-containerfile/, "a step that writes a file nothing uses")
  })
})
