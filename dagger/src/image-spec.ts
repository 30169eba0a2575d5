/**
 * The OpenCode server image, described once, as data.
 *
 * Two thin renderers read this and nothing else: `render-containerfile.ts` writes the committed Containerfile and
 * `apply-to-container.ts` builds the same steps on a Dagger `Container`. A change to the image is an edit here.
 */

/** The version of this image recipe; also Datadog's `version` tag. */
export const IMAGE_VERSION = "0.1.0"

export const DEFAULT_BASE_IMAGE = "node:20-slim"

/** The `opencode-ai` npm release; must equal the plugin package version in plugin/package.json. */
export const DEFAULT_OPENCODE_VERSION = "1.18.33"

export const SERVER_PORT = 4096

/**
 * The platforms the image is built for, as Dagger and `--platform` name them. `build`, `healthcheck`, `serve` and the
 * multi-platform functions refuse any other before a layer is built; the Containerfile names them in its header.
 */
export const SUPPORTED_PLATFORMS = ["linux/amd64", "linux/arm64"]

/** A build argument: `ARG` in the Containerfile, a function argument in Dagger. */
export interface BuildArgument {
  name: string
  default: string
  /** Shown in `--help` and in the Containerfile. */
  description: string
  /** Example that the "empty value" error message offers. */
  example: string
}

/** A cache directory: a Dagger cache volume, or removed in the same layer by the Containerfile. */
export interface CacheDirectory {
  path: string
  volume: string
}

/** A shell command, or the words of one long command (a package list) that the Containerfile puts one a line. */
export type ShellCommand = string | string[]

/** A hadolint rule this step deliberately breaks, and why. */
export interface LintException {
  rule: string
  reason: string
}

export type Step =
  | { kind: "label"; labels: Record<string, string> }
  | { kind: "env"; variables: Record<string, string> }
  | { kind: "workdir"; path: string }
  | {
      kind: "run"
      /** One line on why the step exists; becomes the Containerfile comment. */
      why: string
      /** Shell commands, run in order under `set -eux`; a list of words is one command, one word a line in the Containerfile. */
      commands: ShellCommand[]
      caches: CacheDirectory[]
      /** Base-image files hidden while the step runs under Dagger (apt's docker-clean would empty the apt cache volume). */
      maskedFiles?: string[]
      lintExceptions?: LintException[]
    }
  | { kind: "copy"; sources: string[]; destination: string }
  | { kind: "expose"; port: number }
  | {
      kind: "healthcheck"
      command: string[]
      interval: string
      timeout: string
      startPeriod: string
      retries: number
    }
  | { kind: "entrypoint"; args: string[] }
  /**
   * Directories that outlive a container: `VOLUME` in the Containerfile. Dagger has no VOLUME (its public Container API
   * cannot set the image config's Volumes), so there the same list is the image label VOLUMES_LABEL; the directories
   * themselves, with their modes, come from a run step that both renderings share.
   */
  | { kind: "volume"; paths: string[] }

export interface ImageSpec {
  /** The platforms (os/arch) the image is built for; anything else is refused before a build. */
  platforms: string[]
  /** Declared before FROM; its value is the base image reference. */
  baseImageArgument: BuildArgument
  /** Declared after FROM; available to every later step as `${NAME}`. */
  buildArguments: BuildArgument[]
  steps: Step[]
  /** checkov checks the Containerfile deliberately fails, and why (rendered as `# checkov:skip=` lines in its header). */
  checkovSkips?: CheckovSkip[]
}

/** A checkov check (tests/deploy/test_checkov.py runs checkov on the Containerfile) this image deliberately fails. */
export interface CheckovSkip {
  check: string
  reason: string
}

/** Debian packages, sorted. */
export const SYSTEM_PACKAGES = [
  "ca-certificates",
  "cron",
  "curl",
  "git",
  "python3",
  "python3-pip",
  "python3-venv",
  "rclone",
  "redis-tools",
  "tini",
]

/** What `/opt/venv` must import: the proposal's acceptance criterion. */
export const VENV_MODULES = ["graphiti_core", "falkordb", "redis", "ddtrace", "datadog_api_client", "b2sdk"]

/**
 * Packages whose bytecode is not precompiled: datadog-api-client is 95 MB of generated models for every Datadog
 * endpoint, half of it bytecode, and only operations scripts import it (it then compiles on first import).
 */
export const UNCOMPILED_PACKAGES = ["datadog_api_client"]

export const PLUGIN_DEPENDENCY_DIRECTORIES = ["/root/.opencode", "/root/.config/opencode"]

/** What OpenCode 1.18.33 writes to <config dir>/.gitignore when the file is missing (Config.ensureGitignore). */
export const OPENCODE_CONFIG_GITIGNORE = ["node_modules", "package.json", "package-lock.json", "bun.lock", ".gitignore"]

export const COPIED_PATHS = {
  config: { source: "config.json", destination: "/root/.config/opencode/opencode.json" },
  graphiti: { source: "graphiti/", destination: "/root/.opencode/graphiti/" },
  scripts: { source: "scripts/", destination: "/app/scripts/" },
  plugin: { source: "plugin/", destination: "/root/.opencode/plugin/" },
}

/** Where the Dagger rendering lists the volumes (it cannot declare them): a JSON array of paths. */
export const VOLUMES_LABEL = "org.opencode-server.volumes"

/** What a running server writes, where, and whether it must outlive the container. README's volume table says the same. */
export const STATE_DIRECTORIES = [
  // OpenCode's opencode.db (+ -wal/-shm: sessions, messages, provider logins), auth.json, logs, storage/, repos/
  "/root/.local/share/opencode",
  // OpenCode's locks and small UI state
  "/root/.local/state/opencode",
  // the memory plugin's episode spool (plugin/lib/settings.ts), what a FalkorDB/Valkey outage leaves to retry
  "/root/.local/share/opencode-memory",
  // OpenCode's downloads (models list, tool binaries): rebuilt when lost, but written at run time, so it must be
  // writable on a read-only root; a volume of its own rather than a --tmpfs flag every user must remember
  "/root/.cache/opencode",
]

/** Checks that every state directory is writable before the server starts, naming any that is not (one line). */
export const STATE_CHECK_SCRIPT = "/app/scripts/check-state-dirs"
export const SECRET_CHECK_SCRIPT = "/app/scripts/check-secrets"

/**
 * `opencode debug config` loads the config as `opencode serve` does and exits non-zero, naming the file and the fault,
 * when OpenCode refuses it. It runs on a copy in a throwaway HOME: it writes a database, logs and `$schema` into the
 * HOME it runs in (and a folder in TMPDIR), and prints the resolved config (with `{env:...}` values), hence stdout to
 * /dev/null.
 */
export const CONFIG_CHECK_COMMANDS: ShellCommand[] = [
  'check_home="$(mktemp -d)"',
  'mkdir -p "$check_home/.config/opencode" "$check_home/project" "$check_home/tmp"',
  `cp ${COPIED_PATHS.config.destination} "$check_home/.config/opencode/opencode.json"`,
  'env -C "$check_home/project" HOME="$check_home" XDG_CONFIG_HOME="$check_home/.config" ' +
    'XDG_DATA_HOME="$check_home/.local/share" XDG_CACHE_HOME="$check_home/.cache" ' +
    'XDG_STATE_HOME="$check_home/.local/state" TMPDIR="$check_home/tmp" opencode debug config >/dev/null ' +
    `|| { echo "config.json (${COPIED_PATHS.config.destination}): OpenCode refuses it; the error above names the fault" >&2; exit 1; }`,
  'rm -rf "$check_home"',
]

export const ENTRYPOINT = [
  "tini",
  // -g: SIGTERM reaches the whole process group, so the memory process stops with OpenCode.
  "-g",
  "--",
  // Refuses, in one line naming the variable, a secret given both as NAME and NAME_FILE or a NAME_FILE it cannot read,
  // and a public bind without OPENCODE_SERVER_PASSWORD; hands each secret on only as far as its reader.
  SECRET_CHECK_SCRIPT,
  // Fails fast, in one log line naming the path, when a volume is read-only or not writable by this uid/group 0.
  STATE_CHECK_SCRIPT,
  "ddtrace-run",
  "opencode",
  "serve",
  "--hostname",
  "0.0.0.0",
  "--port",
  String(SERVER_PORT),
]

export const HEALTHCHECK_COMMAND = ["/app/scripts/healthcheck"]

const npmCache: CacheDirectory = { path: "/root/.npm", volume: "opencode-server-npm" }

export const imageSpec: ImageSpec = {
  platforms: SUPPORTED_PLATFORMS,
  checkovSkips: [
    {
      check: "CKV_DOCKER_3",
      reason: "no USER: root stays the default for volumes of earlier root runs; run as --user 10001:0, as the pod does",
    },
    {
      check: "CKV_DOCKER_7",
      reason: "FROM ${BASE_IMAGE}: checkov cannot see its default node:20-slim, a fixed tag; pin a digest with --build-arg",
    },
  ],
  baseImageArgument: {
    name: "BASE_IMAGE",
    default: DEFAULT_BASE_IMAGE,
    description: "Base image with Node.js 20 on Debian bookworm; pin it with a digest (node:20-slim@sha256:...)",
    example: "node:20-slim",
  },
  buildArguments: [
    {
      name: "OPENCODE_VERSION",
      default: DEFAULT_OPENCODE_VERSION,
      description: "Release of the opencode-ai npm package (keep equal to the plugin package in plugin/package.json)",
      example: DEFAULT_OPENCODE_VERSION,
    },
  ],
  steps: [
    {
      kind: "label",
      labels: {
        "org.opencontainers.image.title": "opencode-server",
        "org.opencontainers.image.description":
          "OpenCode server with Graphiti memory on FalkorDB, a Valkey queue, Datadog tracing and Backblaze B2 backups",
        "org.opencontainers.image.version": IMAGE_VERSION,
        "org.opencontainers.image.licenses": "Apache-2.0",
        "org.opencontainers.image.base.name": "${BASE_IMAGE}",
        "com.datadoghq.tags.service": "opencode-server",
        "com.datadoghq.tags.version": IMAGE_VERSION,
      },
    },
    {
      kind: "env",
      variables: {
        FALKORDB_HOST: "localhost",
        FALKORDB_PORT: "6379",
        VALKEY_HOST: "localhost",
        VALKEY_PORT: "6380",
        DD_SERVICE: "opencode-server",
        DD_VERSION: IMAGE_VERSION,
        GRAPHITI_TELEMETRY_ENABLED: "false",
        // OpenCode would otherwise download language servers (unpinned: a branch head, gopls@latest) and the
        // models.dev list at run time; the image is pinned and starts offline (docs/security.md says how to opt in).
        OPENCODE_DISABLE_LSP_DOWNLOAD: "1",
        OPENCODE_DISABLE_MODELS_FETCH: "1",
        PIP_DISABLE_PIP_VERSION_CHECK: "1",
        PYTHONUNBUFFERED: "1",
        PATH: "/opt/venv/bin:${PATH}",
      },
    },
    {
      kind: "run",
      why: "System packages: Python for the venv, git for OpenCode, redis-cli and rclone for backups, cron, tini as PID 1",
      commands: [
        "apt-get update",
        ["apt-get install -y --no-install-recommends", ...SYSTEM_PACKAGES],
      ],
      caches: [
        { path: "/var/cache/apt", volume: "opencode-server-apt-cache" },
        { path: "/var/lib/apt/lists", volume: "opencode-server-apt-lists" },
      ],
      maskedFiles: ["/etc/apt/apt.conf.d/docker-clean"],
      lintExceptions: [
        {
          rule: "DL3008",
          reason: "packages follow the base image's Debian suite; pin the base by digest to pin them",
        },
      ],
    },
    {
      kind: "run",
      why:
        "OpenCode; --omit=optional and its postinstall fetch only this platform's binary (not all twelve); " +
        "--allow-scripts: npm 12 runs no install script unless allowed (npm 10 ignores the option, 11 only warns)",
      commands: [
        ': "${OPENCODE_VERSION:?set OPENCODE_VERSION to an opencode-ai release, e.g. ' + DEFAULT_OPENCODE_VERSION + '}"',
        'npm install --global --omit=optional --allow-scripts=opencode-ai --no-audit --no-fund "opencode-ai@${OPENCODE_VERSION}"',
        'rm -rf "$(npm root --global)/opencode-ai/node_modules"',
        'test "$(opencode --version)" = "${OPENCODE_VERSION}"',
      ],
      caches: [npmCache],
    },
    { kind: "copy", sources: ["graphiti/requirements.lock"], destination: "/opt/venv/requirements.lock" },
    {
      kind: "run",
      why: "The Python venv for Graphiti, FalkorDB, Valkey, ddtrace, the Datadog API client and b2sdk, from a lock with hashes",
      commands: [
        "python3 -m venv /opt/venv",
        "/opt/venv/bin/pip install --require-hashes --only-binary :all: --no-compile -r /opt/venv/requirements.lock",
        `/opt/venv/bin/python -m compileall -q -j 0 -x ${UNCOMPILED_PACKAGES.map((name) => `/${name}/`).join("|")} /opt/venv/lib`,
        `PYTHONDONTWRITEBYTECODE=1 /opt/venv/bin/python -c 'import ${VENV_MODULES.join(", ")}'`,
      ],
      caches: [{ path: "/root/.cache/pip", volume: "opencode-server-pip" }],
    },
    { kind: "copy", sources: ["plugin/package.json", "plugin/package-lock.json"], destination: "/root/.opencode/" },
    {
      kind: "copy",
      sources: ["plugin/package.json", "plugin/package-lock.json"],
      destination: "/root/.config/opencode/",
    },
    {
      kind: "run",
      why: "Plugin dependencies where OpenCode would install them on its first request, so it starts offline; the second copy is hard links",
      commands: [
        `npm ci --omit=dev --no-audit --no-fund --prefix ${PLUGIN_DEPENDENCY_DIRECTORIES[0]}`,
        `cp -al ${PLUGIN_DEPENDENCY_DIRECTORIES[0]}/node_modules ${PLUGIN_DEPENDENCY_DIRECTORIES[1]}/node_modules`,
      ],
      caches: [npmCache],
    },
    { kind: "copy", sources: [COPIED_PATHS.config.source], destination: COPIED_PATHS.config.destination },
    {
      kind: "run",
      why: "config.json read by this OpenCode (JSONC, its schema), in a throwaway HOME: a config it would refuse fails the build",
      commands: CONFIG_CHECK_COMMANDS,
      caches: [],
    },
    { kind: "copy", sources: [COPIED_PATHS.graphiti.source], destination: COPIED_PATHS.graphiti.destination },
    { kind: "copy", sources: [COPIED_PATHS.scripts.source], destination: COPIED_PATHS.scripts.destination },
    { kind: "copy", sources: [COPIED_PATHS.plugin.source], destination: COPIED_PATHS.plugin.destination },
    {
      kind: "env",
      variables: {
        // An arbitrary --user uid has no passwd entry, and engines then set HOME=/: OpenCode, Node and Python would
        // look for config and state under /. The image's paths are under /root, for every uid.
        HOME: "/root",
        // What scripts/check-state-dirs checks before the server starts.
        OPENCODE_SERVER_STATE_DIRS: STATE_DIRECTORIES.join(":"),
      },
    },
    {
      kind: "run",
      why: "State directories, writable by group 0 so the image also runs as --user <any uid>:0 (OpenShift); nothing else is written at run time",
      commands: [
        `mkdir -p ${STATE_DIRECTORIES.join(" ")}`,
        "chmod g+rx /root",
        "chmod -R g=u /root/.local /root/.cache",
        // OpenCode writes a .gitignore into each config directory at start when there is none (EROFS on a read-only
        // root stops every request): the same file, made here.
        ...PLUGIN_DEPENDENCY_DIRECTORIES.map(
          (dir) => `printf '%s\\n' ${OPENCODE_CONFIG_GITIGNORE.join(" ")} > ${dir}/.gitignore`,
        ),
      ],
      caches: [],
    },
    { kind: "volume", paths: STATE_DIRECTORIES },
    { kind: "workdir", path: "/workspace" },
    { kind: "expose", port: SERVER_PORT },
    {
      kind: "healthcheck",
      command: HEALTHCHECK_COMMAND,
      interval: "30s",
      timeout: "10s",
      startPeriod: "40s",
      retries: 3,
    },
    { kind: "entrypoint", args: ENTRYPOINT },
  ],
}
