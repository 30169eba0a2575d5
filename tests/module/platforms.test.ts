/**
 * The platform arguments and the multi-platform functions, read from the query the module hands the engine (the Dagger
 * SDK records it without an engine). The engine rules they rely on, read in dagger/dagger v0.21.8:
 * - core/schema/container.go, container: `container(platform:)` sets the platform; without it, the engine's own.
 * - core/container.go, Publish/Export/AsTarball → getVariantRefs: the variants are keyed by their container's platform
 *   (two on one platform: "duplicate platform"); filterEmptyContainers drops the empty container they hang from.
 * The module's source directory is the repository on disk (its exists/contents read the files), so build() runs whole;
 * the only engine call stood in for is Container.publish, replaced by a recorder.
 */
import assert from "node:assert/strict"
import { existsSync, readFileSync } from "node:fs"
import { join } from "node:path"
import { afterEach, beforeEach, describe, it } from "node:test"
import { fileURLToPath } from "node:url"

import { Container, dag, Directory, type Platform, Secret } from "@dagger.io/dagger"

import { needsEmulatedExec, normalizePlatform, validatePlatform, validatePlatforms } from "../../dagger/src/function-inputs.js"
import { DEFAULT_BASE_IMAGE, DEFAULT_OPENCODE_VERSION, imageSpec, SUPPORTED_PLATFORMS } from "../../dagger/src/image-spec.js"
import { OpencodeServer } from "../../dagger/src/index.js"
import { DEFAULT_FALKORDB_IMAGE, DEFAULT_VALKEY_IMAGE } from "../../dagger/src/memory-stack.js"
import { renderContainerfile } from "../../dagger/src/render-containerfile.js"
import { CONTAINERFILE_PATH, healthcheckContainer, RunOptions } from "../../dagger/src/server-runs.js"

const root = fileURLToPath(new URL("../..", import.meta.url))

type Query = { operation: string; args?: Record<string, any> }

function queryTree(value: unknown): Query[] {
  return (value as { _ctx: { _queryTree: Query[] } })._ctx._queryTree
}

/**
 * A query as plain data, comparable across calls: an SDK object in an argument (a Directory, a File) becomes its own
 * query, since each object also carries functions of its own.
 */
function plain(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(plain)
  if (value && typeof value === "object") {
    if ("_ctx" in value) return queryTree(value).map((query) => ({ operation: query.operation, args: plain(query.args) }))
    return Object.fromEntries(Object.entries(value).filter(([, item]) => typeof item !== "function").map(([key, item]) => [key, plain(item)]))
  }
  return value
}

/**
 * Every step of a container's query after the `container` call it starts from, with each cache volume's platform
 * suffix (engine-rules.test.ts checks those) taken off.
 */
function stepsAfterContainer(container: Container): unknown {
  const steps = JSON.stringify((plain(container) as unknown[]).slice(1))
  return JSON.parse(steps.replace(/"(opencode-server-[a-z-]+?)-(linux-amd64|linux-arm64|engine-platform)"/g, '"$1"'))
}

/** The arguments of the `container` call a query starts from. */
function containerArguments(value: unknown): Record<string, unknown> | undefined {
  const [first] = queryTree(value)
  assert.equal(first.operation, "container", "the query starts from dag.container()")
  return first.args
}

/** The services a query binds, by alias. */
function bindings(value: unknown): Record<string, Query[]> {
  return Object.fromEntries(
    queryTree(value)
      .filter((query) => query.operation === "withServiceBinding")
      .map((query) => [query.args?.alias, queryTree(query.args?.service)]),
  )
}

const platform = (value: string) => value as Platform

/** Reads of the module's source directory and calls of dag.container, counted while a test runs. */
const seen = { reads: [] as string[], containers: [] as Array<Record<string, unknown> | undefined> }

/** The repository as the module's source directory: exists and contents read the files on disk, and are counted. */
function repository(): Directory {
  const directory = dag.directory()
  const file = directory.file
  directory.exists = async (path: string) => {
    seen.reads.push(path)
    return existsSync(join(root, path))
  }
  directory.file = (path: string) => {
    const handle = file(path)
    handle.contents = async () => {
      seen.reads.push(path)
      return readFileSync(join(root, path), "utf8")
    }
    return handle
  }
  return directory
}

const originalContainer = dag.container
const originalDefaultPlatform = dag.defaultPlatform
beforeEach(() => {
  seen.reads = []
  seen.containers = []
  dag.container = (opts) => {
    seen.containers.push(opts as Record<string, unknown> | undefined)
    return originalContainer(opts)
  }
})
afterEach(() => {
  dag.container = originalContainer
  dag.defaultPlatform = originalDefaultPlatform
})

const module = () => new OpencodeServer(repository())

const serve = (server: OpencodeServer, platformValue?: string) =>
  server.serve(undefined, "opencode", DEFAULT_BASE_IMAGE, DEFAULT_OPENCODE_VERSION, DEFAULT_FALKORDB_IMAGE, DEFAULT_VALKEY_IMAGE, false, platformValue as Platform | undefined, true)

const healthcheck = (server: OpencodeServer, platformValue?: string) =>
  server.healthcheck(undefined, "opencode", DEFAULT_BASE_IMAGE, DEFAULT_OPENCODE_VERSION, 45, DEFAULT_FALKORDB_IMAGE, DEFAULT_VALKEY_IMAGE, false, platformValue as Platform | undefined)

describe("build, healthcheck and serve send the platform they are given, and none by default", () => {
  for (const supported of SUPPORTED_PLATFORMS) {
    it(`build --platform ${supported}: the image starts from container(platform: ${supported})`, async () => {
      const image = await module().build(DEFAULT_BASE_IMAGE, DEFAULT_OPENCODE_VERSION, platform(supported))
      assert.deepEqual(containerArguments(image), { platform: supported })
      assert.deepEqual(queryTree(image)[1], { operation: "from", args: { address: DEFAULT_BASE_IMAGE } })
    })
  }

  it("build without --platform sends container() with no platform: the engine's own", async () => {
    const image = await module().build()
    assert.deepEqual(containerArguments(image), {})
    assert.deepEqual(seen.containers, [undefined])
  })

  it("the platform changes nothing else: the same steps as the default build, in the same order", async () => {
    const arm64 = await module().build(DEFAULT_BASE_IMAGE, DEFAULT_OPENCODE_VERSION, platform("linux/arm64"))
    const steps = stepsAfterContainer(arm64) as unknown[]
    assert.ok(steps.length > 30, "a whole build")
    assert.deepEqual(steps, stepsAfterContainer(await module().build()))
  })

  it("an architecture the engine would normalize (aarch64, x86_64) is sent in its normalized form", async () => {
    const arm64 = await module().build(DEFAULT_BASE_IMAGE, DEFAULT_OPENCODE_VERSION, platform("linux/aarch64"))
    assert.deepEqual(containerArguments(arm64), { platform: "linux/arm64" })
    const amd64 = await module().build(DEFAULT_BASE_IMAGE, DEFAULT_OPENCODE_VERSION, platform("x86_64"))
    assert.deepEqual(containerArguments(amd64), { platform: "linux/amd64" })
  })

  // The engine emulates execs only (core/container_exec.go, getEmulator); services start without it (core/service.go,
  // startContainer; dagger/dagger#8060): FalkorDB and Valkey run on the engine's own platform, and a served image
  // on another platform is refused unless the caller says the host emulates it.
  it("serve --platform linux/arm64 on an arm64 engine: the server on linux/arm64, FalkorDB and Valkey on the engine's own", async () => {
    dag.defaultPlatform = async () => platform("linux/arm64")
    const service = await serve(module(), "linux/arm64")
    assert.deepEqual(containerArguments(service), { platform: "linux/arm64" })
    const bound = bindings(service)
    assert.deepEqual(Object.keys(bound).sort(), ["falkordb", "valkey"])
    for (const [alias, tree] of Object.entries(bound)) {
      assert.deepEqual(tree[0], { operation: "container", args: {} }, `${alias} runs on the engine's platform`)
    }
  })

  it("serve --platform linux/arm64 on an amd64 engine is refused before anything is built, saying why", async () => {
    dag.defaultPlatform = async () => platform("linux/amd64")
    await assert.rejects(serve(module(), "linux/arm64"), (error: Error) => {
      assert.match(error.message, /--platform linux\/arm64 cannot be served by this linux\/amd64 engine/)
      assert.match(error.message, /without the emulator it gives builds \(dagger\/dagger#8060\)/)
      assert.match(error.message, /--host-emulation/)
      return true
    })
    assert.deepEqual(seen.containers, [], "no container was made")
    assert.deepEqual(seen.reads, [], "the build context was not read")
  })

  it("serve --platform linux/arm64 --host-emulation on an amd64 engine: served anyway, memory on the engine's own", async () => {
    dag.defaultPlatform = async () => platform("linux/amd64")
    const service = await module().serve(undefined, "opencode", DEFAULT_BASE_IMAGE, DEFAULT_OPENCODE_VERSION, DEFAULT_FALKORDB_IMAGE, DEFAULT_VALKEY_IMAGE, false, platform("linux/arm64"), true, 40, true)
    assert.deepEqual(containerArguments(service), { platform: "linux/arm64" })
    for (const tree of Object.values(bindings(service))) assert.deepEqual(tree[0].args, {})
  })

  it("serve --platform naming the engine's own platform in another spelling is served", async () => {
    dag.defaultPlatform = async () => platform("linux/amd64")
    const service = await serve(module(), "x86_64")
    assert.deepEqual(containerArguments(service), { platform: "linux/amd64" })
  })

  it("serve without --platform: no platform anywhere (server, FalkorDB, Valkey on the engine's own)", async () => {
    const service = await serve(module())
    assert.deepEqual(containerArguments(service), {})
    for (const tree of Object.values(bindings(service))) assert.deepEqual(tree[0], { operation: "container", args: {} })
    assert.ok(seen.containers.every((opts) => opts === undefined), "every dag.container() call was made without a platform")
  })

  it("healthcheck hands its platform to build() only: the probe's exec is emulated, its memory services are not", async () => {
    class RecordingServer extends OpencodeServer {
      built: unknown[] = []
      override async build(...args: Parameters<OpencodeServer["build"]>): Promise<Container> {
        this.built.push(args[2])
        throw new Error("recorded")
      }
    }
    const server = new RecordingServer(repository())
    await assert.rejects(healthcheck(server, "linux/arm64"), /recorded/)
    await assert.rejects(healthcheck(server), /recorded/)
    assert.deepEqual(server.built, ["linux/arm64", undefined])

    const options: RunOptions & { attempts: number } = {
      username: "opencode",
      falkordbImage: DEFAULT_FALKORDB_IMAGE,
      valkeyImage: DEFAULT_VALKEY_IMAGE,
      withoutMemory: false,
      attempts: 3,
    }
    const probe = healthcheckContainer(dag.container({ platform: platform("linux/arm64") }).from("opencode-server:under-test"), { ...options, inExec: true })
    assert.deepEqual(containerArguments(probe), { platform: "linux/arm64" })
    assert.deepEqual(Object.keys(bindings(probe)).sort(), ["falkordb", "valkey"])
    for (const tree of Object.values(bindings(probe))) assert.deepEqual(tree[0].args, {})
  })
})

describe("healthcheck runs the server as a service only on the engine's own platform (issue 21, item 1)", () => {
  // core/container_exec.go, getEmulator: execs are emulated, services are not (core/service.go, startContainer).
  it("needsEmulatedExec: no platform, or the engine's own in any spelling: a service; another: inside the exec", async () => {
    const amd64Engine = async () => "linux/amd64"
    assert.equal(await needsEmulatedExec(undefined, amd64Engine), false)
    assert.equal(await needsEmulatedExec(platform("linux/amd64"), async () => "linux/x86_64"), false)
    assert.equal(await needsEmulatedExec(platform("linux/arm64"), amd64Engine), true)
    assert.equal(await needsEmulatedExec(platform("linux/arm64"), async () => "linux/arm64/v8"), false)
  })
})

describe("the image for several platforms at once, as Dagger publishes and exports one multi-platform image", () => {
  it("platformVariants: by default one Container per supported platform, in order, each a whole build", async () => {
    const variants = await module().platformVariants()
    assert.deepEqual(variants.map(containerArguments), SUPPORTED_PLATFORMS.map((supported) => ({ platform: supported })))
    const steps = stepsAfterContainer(await module().build())
    for (const variant of variants) assert.deepEqual(stepsAfterContainer(variant), steps)
  })

  it("platformVariants --platforms linux/arm64: one variant; the build inputs are read once whatever the count", async () => {
    const one = await module().platformVariants([platform("linux/arm64")])
    assert.deepEqual(one.map(containerArguments), [{ platform: "linux/arm64" }])
    const readsForOne = seen.reads.length
    seen.reads = []
    await module().platformVariants()
    assert.equal(seen.reads.length, readsForOne)
  })

  it("multiPlatformTarball: asTarball on an empty container, with one platformVariant per platform", async () => {
    const tarball = await module().multiPlatformTarball()
    const tree = queryTree(tarball)
    assert.deepEqual(tree.map((query) => query.operation), ["container", "asTarball"])
    assert.deepEqual(tree[0].args, {}, "the root adds no variant of its own (the engine drops an empty container)")
    const variants = tree[1].args?.platformVariants as Container[]
    assert.deepEqual(variants.map(containerArguments), SUPPORTED_PLATFORMS.map((supported) => ({ platform: supported })))
    for (const variant of variants) assert.deepEqual(queryTree(variant)[1], { operation: "from", args: { address: DEFAULT_BASE_IMAGE } })
  })

  describe("publishMultiPlatform", () => {
    type Published = { root: Container; address: string; variants: Container[] }
    let published: Published[]

    /** A container whose publish records its call instead of pushing (no engine runs here), as do those it leads to. */
    function recording(container: Container): Container {
      container.publish = async (address, publishOptions) => {
        published.push({ root: container, address, variants: publishOptions?.platformVariants ?? [] })
        return `${address}@sha256:${"0".repeat(64)}`
      }
      const withRegistryAuth = container.withRegistryAuth
      container.withRegistryAuth = (...args) => recording(withRegistryAuth(...args))
      return container
    }

    beforeEach(() => {
      published = []
      const counting = dag.container
      dag.container = (opts) => recording(counting(opts))
    })

    it("publishes one image with a variant per platform from an empty container, and returns the engine's answer", async () => {
      const address = "registry.example.com/opencode-server:0.1.0"
      const result = await module().publishMultiPlatform(address)
      assert.equal(result, `${address}@sha256:${"0".repeat(64)}`)
      assert.equal(published.length, 1)
      const [{ root: publishedFrom, variants }] = published
      assert.deepEqual(queryTree(publishedFrom), [{ operation: "container", args: {} }])
      assert.deepEqual(variants.map(containerArguments), SUPPORTED_PLATFORMS.map((supported) => ({ platform: supported })))
    })

    it("with --registry-username and --registry-password: withRegistryAuth for the address, the password as the Secret itself", async () => {
      const address = "registry.example.com/opencode-server:0.1.0"
      const password = { plaintext: async () => "token-value" } as unknown as Secret
      await module().publishMultiPlatform(address, [platform("linux/arm64")], DEFAULT_BASE_IMAGE, DEFAULT_OPENCODE_VERSION, "robot", password)
      const [{ root: publishedFrom, variants }] = published
      const [auth] = queryTree(publishedFrom).filter((query) => query.operation === "withRegistryAuth")
      assert.deepEqual(auth.args, { address, username: "robot", secret: password })
      assert.ok(!JSON.stringify(plain(publishedFrom)).includes("token-value"), "the password's value is not in the query")
      assert.deepEqual(variants.map(containerArguments), [{ platform: "linux/arm64" }])
    })

    const secret = { plaintext: async () => "token-value" } as unknown as Secret
    const credentialCases: Array<[string, string | undefined, Secret | undefined, RegExp]> = [
      ["a user name without a password", "robot", undefined, /--registry-username needs --registry-password/],
      ["a password without a user name", undefined, secret, /--registry-password needs --registry-username/],
      ["an unreadable password", "robot", { plaintext: async () => { throw new Error("secret env var not found") } } as unknown as Secret, /--registry-password could not be read/],
    ]
    for (const [name, username, password, message] of credentialCases) {
      it(`${name} fails before any build`, async () => {
        await assert.rejects(
          module().publishMultiPlatform("registry.example.com/o:1", undefined, DEFAULT_BASE_IMAGE, DEFAULT_OPENCODE_VERSION, username, password),
          message,
        )
        assert.equal(seen.containers.length, 0)
        assert.equal(published.length, 0)
      })
    }

    it("an empty --address fails before any build", async () => {
      await assert.rejects(module().publishMultiPlatform(" "), /--address is empty/)
      assert.equal(seen.containers.length, 0)
    })
  })
})

describe("an unsupported platform fails naming the supported ones, before anything is read or built", () => {
  const names = new RegExp(`built for ${SUPPORTED_PLATFORMS.join(" and ")} only`)

  /** Nothing read from the build context, no container made. */
  function nothingBuilt(): void {
    assert.deepEqual(seen.reads, [], "the build context was not read")
    assert.deepEqual(seen.containers, [], "no container was made")
  }

  for (const bad of ["linux/s390x", "windows/amd64", "linux/arm/v7", "darwin/arm64", "garbage", "linux/amd64/v3/x"]) {
    for (const [name, call] of [
      ["build", (server: OpencodeServer) => server.build(DEFAULT_BASE_IMAGE, DEFAULT_OPENCODE_VERSION, platform(bad))],
      ["healthcheck", (server: OpencodeServer) => healthcheck(server, bad)],
      ["serve", (server: OpencodeServer) => serve(server, bad)],
    ] as const) {
      it(`${name} --platform ${bad}`, async () => {
        await assert.rejects(call(module()), (error: Error) => {
          assert.equal(error.name, "BuildInputError")
          assert.match(error.message, new RegExp(`^--platform "${bad}" is not supported`))
          assert.match(error.message, names)
          return true
        })
        nothingBuilt()
      })
    }
  }

  it("an empty --platform names the supported platforms and the default", async () => {
    await assert.rejects(module().build(DEFAULT_BASE_IMAGE, DEFAULT_OPENCODE_VERSION, platform(" ")), /--platform is empty: give linux\/amd64 or linux\/arm64, or leave it out for the engine's own platform/)
    nothingBuilt()
  })

  const listCases: Array<[string, string[], RegExp]> = [
    ["an unsupported platform", ["linux/amd64", "linux/s390x"], /--platforms "linux\/s390x" is not supported: the image is built for linux\/amd64 and linux\/arm64 only/],
    ["windows", ["windows/amd64"], /--platforms "windows\/amd64" is not supported/],
    ["an empty list", [], /--platforms is empty: give one or more of linux\/amd64, linux\/arm64/],
    ["an empty entry", ["linux/arm64", ""], /--platforms holds an empty platform/],
    ["a platform twice", ["linux/arm64", "linux/arm64"], /--platforms names linux\/arm64 twice/],
    ["a platform twice under two spellings", ["linux/amd64", "x86_64"], /--platforms names linux\/amd64 twice/],
  ]
  for (const [name, platforms, message] of listCases) {
    for (const [functionName, call] of [
      ["platformVariants", (server: OpencodeServer) => server.platformVariants(platforms as Platform[])],
      ["multiPlatformTarball", (server: OpencodeServer) => server.multiPlatformTarball(platforms as Platform[])],
      ["publishMultiPlatform", (server: OpencodeServer) => server.publishMultiPlatform("registry.example.com/o:1", platforms as Platform[])],
    ] as const) {
      it(`${functionName} with ${name}`, async () => {
        await assert.rejects(call(module()), message)
        nothingBuilt()
      })
    }
  }
})

describe("the supported platforms: one list in the image spec, read the engine's way", () => {
  it("normalizes as the engine's platform parser does for the supported architectures", () => {
    const cases: Array<[string, string]> = [
      ["linux/amd64", "linux/amd64"],
      ["Linux/AMD64", "linux/amd64"],
      ["linux/x86_64", "linux/amd64"],
      ["amd64", "linux/amd64"],
      ["linux/arm64/v8", "linux/arm64"],
      ["linux/aarch64", "linux/arm64"],
      ["arm64", "linux/arm64"],
      ["linux/arm/v7", "linux/arm/v7"],
      ["windows/amd64", "windows/amd64"],
    ]
    for (const [given, normalized] of cases) assert.equal(normalizePlatform(given), normalized, given)
    assert.equal(validatePlatform("--platform", undefined), undefined, "left out: the engine's own")
    assert.deepEqual(validatePlatforms("--platforms", ["linux/aarch64", "amd64"]), ["linux/arm64", "linux/amd64"])
  })

  it("the spec carries the list, and the committed Containerfile names it", () => {
    assert.deepEqual(imageSpec.platforms, SUPPORTED_PLATFORMS)
    const committed = readFileSync(join(root, CONTAINERFILE_PATH), "utf8")
    assert.equal(committed, renderContainerfile(imageSpec))
    const header = committed.split("\n").find((line) => line.startsWith("# Platforms: "))
    assert.ok(header, "the Containerfile's header names the platforms")
    assert.ok(header.includes(SUPPORTED_PLATFORMS.join(", ")))
    const renderedWithOne = renderContainerfile({ ...imageSpec, platforms: ["linux/arm64"] })
    assert.match(renderedWithOne, /^# Platforms: linux\/arm64;/m, "the header is rendered from the spec, not written by hand")
  })

  it("docs/dagger.md documents the platform argument and each multi-platform function with the supported platforms", () => {
    const readme = readFileSync(join(root, "docs/dagger.md"), "utf8")
    for (const supported of SUPPORTED_PLATFORMS) assert.ok(readme.includes(`--platform=${supported}`), `README shows --platform=${supported}`)
    for (const call of ["dagger call platform-variants", "dagger call publish-multi-platform", "dagger call multi-platform-tarball"]) {
      assert.ok(readme.includes(call), `README shows ${call}`)
    }
  })
})
