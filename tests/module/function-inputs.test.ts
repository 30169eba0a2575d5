/**
 * Bad arguments to `healthcheck` and `serve` end in a message naming the argument before any container is built or
 * started: build() is replaced by one that records being called, and must not be.
 */
import assert from "node:assert/strict"
import { describe, it } from "node:test"

import { Container, dag, Secret } from "@dagger.io/dagger"

import { DEFAULT_BASE_IMAGE, DEFAULT_OPENCODE_VERSION } from "../../dagger/src/image-spec.js"
import { OpencodeServer } from "../../dagger/src/index.js"
import { DEFAULT_FALKORDB_IMAGE, DEFAULT_VALKEY_IMAGE } from "../../dagger/src/memory-stack.js"

class RecordingServer extends OpencodeServer {
  builds = 0
  override async build(): Promise<Container> {
    this.builds++
    throw new Error("build() must not run for bad input")
  }
}

/**
 * A stand-in for the engine's Secret (no engine runs here): reading it fails as the engine's does for
 * `--password=hunter2`, which the CLI turns into env://hunter2 (core/schema/address.go, secret), a variable that is
 * not set (engine/client/secretprovider/env.go: `secret env var not found: "hunter2"`).
 */
function secretThatFails(value: string): Secret {
  return { plaintext: async () => { throw new Error(`secret env var not found: "${value}"`) } } as unknown as Secret
}

function secretWith(value: string): Secret {
  return { plaintext: async () => value } as unknown as Secret
}

const module = () => new RecordingServer(dag.directory())

type Call = (server: RecordingServer) => Promise<unknown>

const healthcheck = (options: { password?: Secret; username?: string; attempts?: number; falkordb?: string; valkey?: string; withoutMemory?: boolean }): Call =>
  (server) =>
    server.healthcheck(
      options.password,
      options.username ?? "opencode",
      DEFAULT_BASE_IMAGE,
      DEFAULT_OPENCODE_VERSION,
      options.attempts ?? 45,
      options.falkordb ?? DEFAULT_FALKORDB_IMAGE,
      options.valkey ?? DEFAULT_VALKEY_IMAGE,
      options.withoutMemory ?? false,
    )

const serve = (options: { password?: Secret; username?: string; falkordb?: string; valkey?: string; withoutMemory?: boolean; allowNoPassword?: boolean; startPeriod?: number }): Call =>
  (server) =>
    server.serve(
      options.password,
      options.username ?? "opencode",
      DEFAULT_BASE_IMAGE,
      DEFAULT_OPENCODE_VERSION,
      options.falkordb ?? DEFAULT_FALKORDB_IMAGE,
      options.valkey ?? DEFAULT_VALKEY_IMAGE,
      options.withoutMemory ?? false,
      undefined,
      options.allowNoPassword ?? true,
      options.startPeriod ?? 40,
    )

async function rejectsBeforeBuild(call: Call, message: RegExp): Promise<Error> {
  const server = module()
  let caught: Error | undefined
  await call(server).catch((error: Error) => (caught = error))
  assert.ok(caught, "the call must fail")
  assert.match(caught.message, message)
  assert.equal(server.builds, 0, "no image was built, no container started")
  return caught
}

describe("bad input to healthcheck and serve fails before any container", () => {
  for (const attempts of [0, -1, 2.5]) {
    it(`healthcheck --attempts ${attempts}`, async () => {
      await rejectsBeforeBuild(healthcheck({ attempts }), /--attempts must be a positive whole number/)
    })
  }

  for (const [name, call] of [["healthcheck", healthcheck], ["serve", serve]] as const) {
    it(`${name} with an empty --falkordb-image or --valkey-image`, async () => {
      await rejectsBeforeBuild(call({ falkordb: "" }), /--falkordb-image is empty/)
      await rejectsBeforeBuild(call({ valkey: "  " }), /--valkey-image is empty/)
      await rejectsBeforeBuild(call({ valkey: "valkey/valkey :8" }), /--valkey-image must not contain whitespace/)
    })

    it(`${name} with an empty image but --without-memory goes on to the build`, async () => {
      const server = module()
      await assert.rejects(call({ falkordb: "", valkey: "", withoutMemory: true })(server), /build\(\) must not run/)
      assert.equal(server.builds, 1)
    })

    it(`${name} --password given as a plain word: a clear error that does not repeat the word`, async () => {
      const error = await rejectsBeforeBuild(call({ password: secretThatFails("hunter2") }), /--password could not be read\. A Secret argument is an address: env:\/\/NAME/)
      assert.ok(!error.message.includes("hunter2"))
    })

    it(`${name} with an empty password`, async () => {
      await rejectsBeforeBuild(call({ password: secretWith("") }), /--password is empty/)
    })

    it(`${name} with an empty --username`, async () => {
      await rejectsBeforeBuild(call({ username: " " }), /--username is empty/)
    })
  }
})

describe("closed by default: no call serves without a password by accident (issue 17)", () => {
  it("serve without --password is refused before any container, naming --password and --allow-no-password", async () => {
    const error = await rejectsBeforeBuild(serve({ allowNoPassword: false }), /serve needs --password/)
    assert.match(error.message, /--allow-no-password/)
  })
})

describe("serve --start-period (issue 21, item 5)", () => {
  for (const seconds of [0, -5, 2.5]) {
    it(`${seconds} is refused before any container`, async () => {
      await rejectsBeforeBuild(serve({ startPeriod: seconds }), /--start-period must be a whole number of seconds, at least 1/)
    })
  }
})
