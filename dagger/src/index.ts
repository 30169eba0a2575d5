/**
 * The OpenCode server image: OpenCode with long-term Graphiti memory on FalkorDB, a Valkey queue, Datadog tracing and
 * Backblaze B2 backups. Builds it, exports the very same image as a Containerfile, and proves it healthy.
 */
import {
  argument,
  check,
  Container,
  dag,
  Directory,
  File,
  func,
  object,
  type Platform,
  Secret,
  Service,
} from "@dagger.io/dagger"

import { applyToContainer } from "./apply-to-container.js"
import { BuildContextReader, BuildInputError, validateBuildInputs } from "./build-context.js"
import {
  requireReadableSecret,
  needsEmulatedExec,
  requireServablePlatform,
  validateAttempts,
  validateImageReference,
  validatePlatform,
  validatePlatforms,
  validateUsername,
} from "./function-inputs.js"
import { DEFAULT_BASE_IMAGE, DEFAULT_OPENCODE_VERSION, imageSpec, SUPPORTED_PLATFORMS } from "./image-spec.js"
import { DEFAULT_FALKORDB_IMAGE, DEFAULT_VALKEY_IMAGE } from "./memory-images.js"
import { multiPlatformTarball, publishMultiPlatform, RegistryCredentials } from "./multi-platform.js"
import { renderContainerfile } from "./render-containerfile.js"
import {
  acceptanceContainer,
  containerfileDiff,
  CONTAINERFILE_PATH,
  healthcheckReport,
  healthcheckRun,
  serverService,
} from "./server-runs.js"

/**
 * The OpenCode server image, built by Dagger and exported as a Containerfile, both from one spec.
 */
@object()
export class OpencodeServer {
  source: Directory

  constructor(
    /**
     * The repository root. Only what the image needs is uploaded: config.json, plugin/, graphiti/, scripts/ and the
     * committed Containerfile.
     */
    @argument({
      defaultPath: "/",
      ignore: [
        "**",
        "!config.json",
        "!plugin",
        "!graphiti",
        "!scripts",
        "!containers/opencode-server/Containerfile",
        "plugin/node_modules",
        "graphiti/tests",
        "**/__pycache__",
        "**/.pytest_cache",
        "**/*.pyc",
      ],
    })
    source: Directory,
  ) {
    this.source = source
  }

  /**
   * Build the OpenCode server image: the same steps as containers/opencode-server/Containerfile, with apt, npm and pip
   * behind cache volumes. Fails before the first layer on an empty argument, a platform other than linux/amd64 or
   * linux/arm64, or a missing or malformed input file. For arm64, on any engine (another platform than the engine's
   * runs under its emulation): dagger call build --platform=linux/arm64 export --path=opencode-server-arm64.tar
   */
  @func()
  async build(
    /** Base image with Node.js 20 on Debian bookworm; pin it with a digest, e.g. node:20-slim@sha256:... */
    baseImage: string = DEFAULT_BASE_IMAGE,
    /** Release of the opencode-ai npm package; must equal the plugin package version pinned in plugin/package.json. */
    opencodeVersion: string = DEFAULT_OPENCODE_VERSION,
    /**
     * Platform to build for: linux/amd64 or linux/arm64; default: the engine's own. A base image pinned by digest must
     * be pinned by its multi-platform index's digest: a single platform's manifest builds that platform whatever is asked.
     */
    platform?: Platform,
  ): Promise<Container> {
    const checked = validatePlatform("--platform", platform)
    const [image] = await this.buildFor([checked], baseImage, opencodeVersion)
    return image
  }

  /**
   * The image for several platforms at once: one Container per platform, in the order given, each built as build()
   * builds it; the form Dagger takes a multi-platform image in (a module or SDK client passes them as platformVariants
   * to publish or asTarball; publish-multi-platform and multi-platform-tarball do that here). Builds both and prints
   * their platforms: dagger call platform-variants platform
   */
  @func()
  async platformVariants(
    /** The platforms, each once, from linux/amd64 and linux/arm64; default: both. */
    platforms?: Platform[],
    /** Base image with Node.js 20 on Debian bookworm; pin it by the digest of its multi-platform index. */
    baseImage: string = DEFAULT_BASE_IMAGE,
    /** Release of the opencode-ai npm package; must equal the plugin package version pinned in plugin/package.json. */
    opencodeVersion: string = DEFAULT_OPENCODE_VERSION,
  ): Promise<Container[]> {
    const checked = validatePlatforms("--platforms", platforms ?? SUPPORTED_PLATFORMS)
    return this.buildFor(checked, baseImage, opencodeVersion)
  }

  /**
   * Build the image for several platforms and push it as one multi-platform image (an index with a manifest per
   * platform); returns the address with the index's digest. Never cached, so every call pushes:
   * dagger call publish-multi-platform --address=registry.example.com/opencode-server:0.1.0
   */
  @func({ cache: "never" })
  async publishMultiPlatform(
    /** Where to push, as for docker push, e.g. registry.example.com/opencode-server:0.1.0 */
    address: string,
    /** The platforms, each once, from linux/amd64 and linux/arm64; default: both. */
    platforms?: Platform[],
    /** Base image with Node.js 20 on Debian bookworm; pin it by the digest of its multi-platform index. */
    baseImage: string = DEFAULT_BASE_IMAGE,
    /** Release of the opencode-ai npm package; must equal the plugin package version pinned in plugin/package.json. */
    opencodeVersion: string = DEFAULT_OPENCODE_VERSION,
    /** User name for the registry, with --registry-password; without both the engine's own credentials for it are used. */
    registryUsername?: string,
    /** Password or token for the registry, as a secret address (env://NAME, file://PATH, cmd://COMMAND). */
    registryPassword?: Secret,
  ): Promise<string> {
    const checked = validatePlatforms("--platforms", platforms ?? SUPPORTED_PLATFORMS)
    validateImageReference("--address", address)
    const credentials = await registryCredentials(registryUsername, registryPassword)
    const variants = await this.buildFor(checked, baseImage, opencodeVersion)
    return publishMultiPlatform(variants, address, credentials)
  }

  /**
   * Build the image for several platforms as one multi-platform OCI image archive (an index with a manifest per
   * platform), e.g. to push later with skopeo copy --all: dagger call multi-platform-tarball export --path=opencode-server.tar
   */
  @func()
  async multiPlatformTarball(
    /** The platforms, each once, from linux/amd64 and linux/arm64; default: both. */
    platforms?: Platform[],
    /** Base image with Node.js 20 on Debian bookworm; pin it by the digest of its multi-platform index. */
    baseImage: string = DEFAULT_BASE_IMAGE,
    /** Release of the opencode-ai npm package; must equal the plugin package version pinned in plugin/package.json. */
    opencodeVersion: string = DEFAULT_OPENCODE_VERSION,
  ): Promise<File> {
    const checked = validatePlatforms("--platforms", platforms ?? SUPPORTED_PLATFORMS)
    return multiPlatformTarball(await this.buildFor(checked, baseImage, opencodeVersion))
  }

  /**
   * The image on each platform (undefined: the engine's own), after one check of the build inputs: the platforms are
   * checked by the caller, before anything is read or built.
   */
  private async buildFor(platforms: Array<Platform | undefined>, baseImage: string, opencodeVersion: string): Promise<Container[]> {
    const values = { BASE_IMAGE: baseImage, OPENCODE_VERSION: opencodeVersion }
    await validateBuildInputs(imageSpec, directoryReader(this.source), values)
    return platforms.map((platform) => applyToContainer(imageSpec, this.source, values, platform))
  }

  /**
   * The Containerfile of the same image, rendered from the same spec as build(); byte-identical to the committed
   * containers/opencode-server/Containerfile. Save it with: dagger call export-containerfile export --path=Containerfile
   */
  @func()
  exportContainerfile(): File {
    return dag.file("Containerfile", renderContainerfile(imageSpec))
  }

  /**
   * Prove the image healthy, memory included: with FalkorDB and Valkey started as services, run the image as a service
   * and check it from a second container by hostname: GET http://opencode:4096/config through the image's own health
   * check script (HTTP Basic auth), then the memory process's /health (relayed from the server's container, where it
   * listens on loopback only), which must report FalkorDB and Valkey reachable. On a platform the engine only emulates,
   * the server runs inside the probe's exec instead (the engine emulates execs, not services). Returns a JSON report
   * (the /config body with every secret redacted, the memory health, the redacted paths); on failure, an error saying
   * which part failed (opencode or memory) with the server's last log lines.
   * Never cached. The arm64 image, on any engine: dagger call healthcheck --platform=linux/arm64 --attempts=90 (its
   * FalkorDB and Valkey run on the engine's own platform)
   */
  @func({ cache: "never" })
  async healthcheck(
    /** OPENCODE_SERVER_PASSWORD for the server, as a secret address: env://NAME, file://PATH or cmd://COMMAND. */
    password?: Secret,
    /** OPENCODE_SERVER_USERNAME for HTTP Basic auth. */
    username: string = "opencode",
    /** Base image with Node.js 20 on Debian bookworm. */
    baseImage: string = DEFAULT_BASE_IMAGE,
    /** Release of the opencode-ai npm package. */
    opencodeVersion: string = DEFAULT_OPENCODE_VERSION,
    /** How many times to try each check (GET /config, then memory's /health), two seconds apart, before failing. */
    attempts: number = 45,
    /** FalkorDB image for the memory graph, by tag and digest. */
    falkordbImage: string = DEFAULT_FALKORDB_IMAGE,
    /** Valkey image for the memory queue, by tag and digest; it is started on port 6380, the image's VALKEY_PORT. */
    valkeyImage: string = DEFAULT_VALKEY_IMAGE,
    /** Start no FalkorDB or Valkey and skip the memory check: OpenCode then runs without memory (it fails open). */
    withoutMemory: boolean = false,
    /**
     * Platform of the image: linux/amd64 or linux/arm64; default: the engine's own. The server runs inside the probe's
     * exec, which the engine emulates on a foreign platform (raise --attempts: it starts slower); FalkorDB and Valkey
     * run as services on the engine's own platform, which the engine never emulates.
     */
    platform?: Platform,
  ): Promise<string> {
    const checked = validatePlatform("--platform", platform)
    validateAttempts(attempts)
    validateUsername(username)
    if (!withoutMemory) validateMemoryImages(falkordbImage, valkeyImage)
    if (password) await requireReadableSecret("--password", password)
    const image = await this.build(baseImage, opencodeVersion, checked)
    const inExec = await needsEmulatedExec(checked, () => dag.defaultPlatform())
    return await healthcheckReport(
      healthcheckRun(image, { username, password, attempts, falkordbImage, valkeyImage, withoutMemory, inExec }),
    )
  }

  /**
   * The image as a running service on port 4096, with FalkorDB and Valkey beside it:
   * dagger call serve --password=env://OPENCODE_SERVER_PASSWORD up --ports 4096:4096
   * (--platform=linux/arm64 for the arm64 image needs an arm64 engine, or --host-emulation on a host with binfmt).
   */
  @func()
  async serve(
    /** OPENCODE_SERVER_PASSWORD, as a secret address (env://NAME, file://PATH, cmd://COMMAND); leave it unset only on a trusted network. */
    password?: Secret,
    /** OPENCODE_SERVER_USERNAME for HTTP Basic auth. */
    username: string = "opencode",
    /** Base image with Node.js 20 on Debian bookworm. */
    baseImage: string = DEFAULT_BASE_IMAGE,
    /** Release of the opencode-ai npm package. */
    opencodeVersion: string = DEFAULT_OPENCODE_VERSION,
    /** FalkorDB image for the memory graph, by tag and digest. */
    falkordbImage: string = DEFAULT_FALKORDB_IMAGE,
    /** Valkey image for the memory queue, by tag and digest; it is started on port 6380, the image's VALKEY_PORT. */
    valkeyImage: string = DEFAULT_VALKEY_IMAGE,
    /** Start no FalkorDB or Valkey: OpenCode then runs without memory (it fails open). */
    withoutMemory: boolean = false,
    /**
     * Platform of the image: linux/amd64 or linux/arm64; default: the engine's own. Another platform than the engine's
     * is refused unless --host-emulation: the engine starts services without its emulator. FalkorDB and Valkey run on
     * the engine's own platform.
     */
    platform?: Platform,
    /**
     * Serve without --password, on a network you trust: every route, the shell included, answers anyone who reaches
     * the port. Without it, a call with no --password is refused (as the image refuses to start).
     */
    allowNoPassword: boolean = false,
    /**
     * Seconds the server gets to come up before failed readiness checks count (the engine then tries 3 more times, a
     * second apart; the image's HEALTHCHECK timeout is not applied by the engine). Raise it under emulation or on a
     * slow engine.
     */
    startPeriod: number = 40,
    /**
     * The engine's host runs binaries of other platforms itself (binfmt_misc handlers, e.g. qemu-user-static): serve
     * a --platform other than the engine's anyway.
     */
    hostEmulation: boolean = false,
  ): Promise<Service> {
    validateStartPeriod(startPeriod)
    const checked = validatePlatform("--platform", platform)
    if (checked !== undefined) await requireServablePlatform(checked, () => dag.defaultPlatform(), hostEmulation)
    validateUsername(username)
    if (!withoutMemory) validateMemoryImages(falkordbImage, valkeyImage)
    if (password) await requireReadableSecret("--password", password)
    else if (!allowNoPassword) {
      throw new BuildInputError(
        "serve needs --password (env://NAME, file://PATH or cmd://COMMAND): without one OpenCode answers every route, " +
          "its shell included, to anyone who reaches the port; add --allow-no-password only on a network you trust",
      )
    }
    const image = await this.build(baseImage, opencodeVersion, checked)
    return serverService(image, {
      username,
      password,
      allowNoPassword: !password && allowNoPassword,
      falkordbImage,
      valkeyImage,
      withoutMemory,
      startPeriod: `${startPeriod}s`,
    })
  }

  /**
   * Check the proposal's acceptance criteria inside the built image: the venv imports, ddtrace-run on PATH, rclone and
   * b2sdk, redis-cli, cron, git, tini, the pinned opencode, the copied paths and the environment defaults. Returns the
   * container that ran them: its exit code decides the check and `dagger check` shows every PASS and FAIL line.
   */
  @func()
  @check()
  async acceptanceCriteria(): Promise<Container> {
    return acceptanceContainer(await this.build())
  }

  /**
   * Check that the committed containers/opencode-server/Containerfile is the rendering of the image spec: runs
   * `diff -u` of the two, so a failure shows what differs (regenerate it with `npm run containerfile`).
   */
  @func()
  @check()
  containerfileIsCurrent(): Container {
    return containerfileDiff(this.source.file(CONTAINERFILE_PATH))
  }
}

/** A start period the engine can honour: whole seconds, at least one (0 or less would fail every early check). */
function validateStartPeriod(seconds: number): void {
  if (!Number.isInteger(seconds) || seconds < 1) {
    throw new BuildInputError(`--start-period must be a whole number of seconds, at least 1 (got ${seconds})`)
  }
}

function validateMemoryImages(falkordbImage: string, valkeyImage: string): void {
  validateImageReference("--falkordb-image", falkordbImage)
  validateImageReference("--valkey-image", valkeyImage)
}

/** Both or neither: a user name without a password (or the reverse) is a mistake, not a request for anonymous access. */
async function registryCredentials(username?: string, password?: Secret): Promise<RegistryCredentials | undefined> {
  if (username === undefined && password === undefined) return undefined
  if (password === undefined) {
    throw new BuildInputError("--registry-username needs --registry-password (give both, or neither to use the engine's credentials)")
  }
  if (username === undefined || username.trim() === "") {
    throw new BuildInputError("--registry-password needs --registry-username (give both, or neither to use the engine's credentials)")
  }
  await requireReadableSecret("--registry-password", password)
  return { username, password }
}

function directoryReader(directory: Directory): BuildContextReader {
  return {
    exists: (path) => directory.exists(path),
    read: (path) => directory.file(path).contents(),
  }
}
