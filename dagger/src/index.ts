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
  ReturnType,
  Secret,
  Service,
} from "@dagger.io/dagger"

import { acceptanceChecks, acceptanceScript } from "./acceptance-checks.js"
import { applyToContainer } from "./apply-to-container.js"
import { BuildContextReader, validateBuildInputs } from "./build-context.js"
import { probeScript, SERVER_LOG_DIRECTORY } from "./health-probe.js"
import { DEFAULT_BASE_IMAGE, DEFAULT_OPENCODE_VERSION, imageSpec, SERVER_PORT } from "./image-spec.js"
import { renderContainerfile } from "./render-containerfile.js"

const CONTAINERFILE_PATH = "containers/opencode-server/Containerfile"

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
   * behind cache volumes. Fails before the first layer on an empty argument or a missing or malformed input file.
   */
  @func()
  async build(
    /** Base image with Node.js 20 on Debian bookworm; pin it with a digest, e.g. node:20-slim@sha256:... */
    baseImage: string = DEFAULT_BASE_IMAGE,
    /** Release of the opencode-ai npm package; must equal the plugin package version pinned in plugin/package.json. */
    opencodeVersion: string = DEFAULT_OPENCODE_VERSION,
  ): Promise<Container> {
    const values = { BASE_IMAGE: baseImage, OPENCODE_VERSION: opencodeVersion }
    await validateBuildInputs(imageSpec, directoryReader(this.source), values)
    return applyToContainer(imageSpec, this.source, values)
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
   * Prove the image healthy: start build() as a service with its entrypoint, and GET /config from a second container
   * through a service binding, with bounded retries. Returns the /config body; on failure, an error naming what failed
   * with the server's last log lines. Never cached.
   */
  @func({ cache: "never" })
  async healthcheck(
    /** OPENCODE_SERVER_PASSWORD for the server; the probe then authenticates with HTTP Basic. */
    password?: Secret,
    /** OPENCODE_SERVER_USERNAME for HTTP Basic auth. */
    username: string = "opencode",
    /** Base image with Node.js 20 on Debian bookworm. */
    baseImage: string = DEFAULT_BASE_IMAGE,
    /** Release of the opencode-ai npm package. */
    opencodeVersion: string = DEFAULT_OPENCODE_VERSION,
    /** How many times to try GET /config, two seconds apart, before failing. */
    attempts: number = 45,
  ): Promise<string> {
    if (!Number.isInteger(attempts) || attempts < 1) throw new Error(`attempts must be a positive integer, got ${attempts}`)
    const image = await this.build(baseImage, opencodeVersion)
    // A fresh volume per call: the probe reads the server's log from it, and no earlier run's log can be mistaken for it.
    const run = `${Date.now()}-${Math.random().toString(36).slice(2)}`
    const logs = dag.cacheVolume(`opencode-server-healthcheck-log-${run}`)
    const withAuth = (container: Container) => {
      const named = container.withEnvVariable("OPENCODE_SERVER_USERNAME", username)
      return password ? named.withSecretVariable("OPENCODE_SERVER_PASSWORD", password) : named
    }
    const server = withAuth(image).withMountedCache(SERVER_LOG_DIRECTORY, logs).asService({ useEntrypoint: true })
    const probe = withAuth(image)
      .withMountedCache(SERVER_LOG_DIRECTORY, logs)
      .withServiceBinding("opencode", server)
      .withEnvVariable("HEALTHCHECK_URL", `http://opencode:${SERVER_PORT}/config`)
      .withEnvVariable("HEALTHCHECK_RUN", run)
      .withExec(["/bin/sh", "-c", probeScript(attempts)], { expect: ReturnType.Any })
    if ((await probe.exitCode()) !== 0) {
      throw new Error(`healthcheck failed: ${(await probe.stderr()).trim()}`)
    }
    return await probe.stdout()
  }

  /**
   * The image as a running service on port 4096: dagger call serve up --ports 4096:4096
   */
  @func()
  async serve(
    /** OPENCODE_SERVER_PASSWORD; leave unset only on a trusted network. */
    password?: Secret,
    /** Base image with Node.js 20 on Debian bookworm. */
    baseImage: string = DEFAULT_BASE_IMAGE,
    /** Release of the opencode-ai npm package. */
    opencodeVersion: string = DEFAULT_OPENCODE_VERSION,
  ): Promise<Service> {
    const image = await this.build(baseImage, opencodeVersion)
    const server = password ? image.withSecretVariable("OPENCODE_SERVER_PASSWORD", password) : image
    return server.asService({ useEntrypoint: true })
  }

  /**
   * Check the proposal's acceptance criteria inside the built image: the venv imports, ddtrace-run on PATH, rclone and
   * b2sdk, redis-cli, cron, git, tini, the pinned opencode, the copied paths and the environment defaults.
   */
  @func()
  @check()
  async acceptanceCriteria(): Promise<void> {
    const result = (await this.build())
      .withNewFile("/tmp/acceptance-checks.sh", acceptanceScript(acceptanceChecks()))
      .withExec(["/bin/sh", "/tmp/acceptance-checks.sh"], { expect: ReturnType.Any })
    const report = await result.stdout()
    if ((await result.exitCode()) !== 0) {
      const failed = report.split("\n").filter((line) => line.startsWith("FAIL"))
      throw new Error(`acceptance criteria failed:\n${failed.join("\n")}`)
    }
  }

  /**
   * Check that the committed containers/opencode-server/Containerfile is the rendering of the image spec
   * (regenerate it with `npm run containerfile`).
   */
  @func()
  @check()
  async containerfileIsCurrent(): Promise<void> {
    const committed = await this.source.file(CONTAINERFILE_PATH).contents()
    if (committed !== renderContainerfile(imageSpec)) {
      throw new Error(`${CONTAINERFILE_PATH} differs from the image spec: run \`npm run containerfile\` and commit it`)
    }
  }
}

function directoryReader(directory: Directory): BuildContextReader {
  return {
    exists: (path) => directory.exists(path),
    read: (path) => directory.file(path).contents(),
  }
}
