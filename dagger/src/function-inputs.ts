/**
 * Checks of the functions' arguments, run before any container is built or started, so a mistake ends in a message
 * naming the argument instead of a failure deep in the engine.
 */
import type { Platform } from "@dagger.io/dagger"

import { BuildInputError } from "./build-context.js"
import { SUPPORTED_PLATFORMS } from "./image-spec.js"

/** What the module needs of a Secret: reading it (the engine resolves env://, file://, cmd://... only then). */
export interface ReadableSecret {
  plaintext(): Promise<string>
}

export function validateAttempts(attempts: number): void {
  if (!Number.isInteger(attempts) || attempts < 1) {
    throw new BuildInputError(`--attempts must be a positive whole number (each check is tried that often), got ${attempts}`)
  }
}

export function validateUsername(username: string): void {
  if (username.trim() === "") throw new BuildInputError("--username is empty: OpenCode needs a user name for HTTP Basic auth")
}

/** An image reference: not empty, no whitespace (e.g. valkey/valkey:8.1.9@sha256:...). */
export function validateImageReference(argument: string, reference: string): void {
  if (reference.trim() === "") {
    throw new BuildInputError(`${argument} is empty: give an image reference such as name:tag@sha256:<digest>, or --without-memory`)
  }
  if (/\s/.test(reference)) throw new BuildInputError(`${argument} must not contain whitespace: ${JSON.stringify(reference)}`)
}

/**
 * Reads the password once before anything starts. The Dagger CLI takes a Secret argument as an address (env://NAME,
 * file://PATH, cmd://COMMAND, ...); a value without a scheme is read as the name of an environment variable
 * (core/schema/address.go, secret: `MY_SECRET -> env://MY_SECRET`), so `--password=hunter2` asks for a variable named
 * hunter2. The engine's error would name it; this message does not repeat the value, which may be the password itself.
 */
export async function requireReadableSecret(argument: string, secret: ReadableSecret): Promise<void> {
  let value: string
  try {
    value = await secret.plaintext()
  } catch {
    throw new BuildInputError(
      `${argument} could not be read. A Secret argument is an address: env://NAME, file://PATH or cmd://COMMAND; ` +
        "a bare word is taken as the name of an environment variable, never as the password itself",
    )
  }
  if (value === "") {
    throw new BuildInputError(`${argument} is empty: OpenCode would then run without authentication; leave ${argument} out instead`)
  }
}

/**
 * Architecture spellings that name a supported platform. The engine parses a Platform argument with containerd's
 * platforms.Parse and hands the module its normalized form (core/platform.go, DecodeInput and MarshalJSON), so
 * `--platform linux/aarch64` arrives as linux/arm64; this table lets the module read a direct caller's value the same way.
 */
const ARCHITECTURE_ALIASES: Record<string, string> = { x86_64: "amd64", "x86-64": "amd64", aarch64: "arm64" }

/** The os/arch form of a platform: lower case, aliases resolved, a bare architecture on linux, arm64's default v8 dropped. */
export function normalizePlatform(value: string): string {
  const parts = value.trim().toLowerCase().split("/")
  if (parts.length === 1) parts.unshift("linux")
  const [os, architecture, ...variant] = parts
  const arch = ARCHITECTURE_ALIASES[architecture] ?? architecture
  const kept = arch === "arm64" && variant.join("/") === "v8" ? [] : variant
  return [os, arch, ...kept].join("/")
}

/** A platform checked against the image spec's SUPPORTED_PLATFORMS, in its normalized form. */
function supportedPlatform(argument: string, platform: string, empty: string): Platform {
  if (platform.trim() === "") throw new BuildInputError(empty)
  const normalized = normalizePlatform(platform)
  if (!SUPPORTED_PLATFORMS.includes(normalized)) {
    throw new BuildInputError(
      `${argument} ${JSON.stringify(platform)} is not supported: the image is built for ${SUPPORTED_PLATFORMS.join(" and ")} only`,
    )
  }
  return normalized as Platform
}

/**
 * The `platform` argument of build, healthcheck and serve. Left out (undefined) it stays undefined: the engine then
 * builds for its own platform.
 */
export function validatePlatform(argument: string, platform: string | undefined): Platform | undefined {
  if (platform === undefined) return undefined
  const empty = `${argument} is empty: give ${SUPPORTED_PLATFORMS.join(" or ")}, or leave it out for the engine's own platform`
  return supportedPlatform(argument, platform, empty)
}

/**
 * A served image must be on the engine's own platform: the engine runs a foreign-platform exec under its emulator but
 * starts a service without it (core/container_exec.go, getEmulator; core/service.go, startContainer; dagger/dagger#8060,
 * open), so the service would fail to start on a host without binfmt handlers for that platform. `enginePlatform` is
 * the engine's answer to defaultPlatform.
 */
export async function requireServablePlatform(
  platform: Platform,
  enginePlatform: () => Promise<string>,
  hostEmulation: boolean,
): Promise<void> {
  if (hostEmulation) return
  const engine = normalizePlatform(await enginePlatform())
  if (engine === platform) return
  throw new BuildInputError(
    `--platform ${platform} cannot be served by this ${engine} engine: Dagger starts services without the emulator it ` +
      `gives builds (dagger/dagger#8060). Serve it on a ${platform} engine, or add --host-emulation when the engine's ` +
      `host has binfmt handlers for ${platform} (qemu-user-static); build --platform=${platform} works on any engine`,
  )
}

/**
 * Whether healthcheck must run the server inside its probe exec rather than as a service: when the image's platform is
 * not the engine's, since only execs are emulated (see requireServablePlatform).
 */
export async function needsEmulatedExec(platform: Platform | undefined, enginePlatform: () => Promise<string>): Promise<boolean> {
  if (platform === undefined) return false
  return normalizePlatform(await enginePlatform()) !== platform
}

/** The platforms of one multi-platform image: at least one, each supported, none twice. */
export function validatePlatforms(argument: string, platforms: string[]): Platform[] {
  if (platforms.length === 0) {
    throw new BuildInputError(`${argument} is empty: give one or more of ${SUPPORTED_PLATFORMS.join(", ")}, or leave it out for all of them`)
  }
  const empty = `${argument} holds an empty platform: give ${SUPPORTED_PLATFORMS.join(" or ")}`
  const checked = platforms.map((platform) => supportedPlatform(argument, platform, empty))
  const twice = checked.find((platform, index) => checked.indexOf(platform) !== index)
  if (twice) {
    throw new BuildInputError(`${argument} names ${twice} twice: a multi-platform image holds one variant per platform`)
  }
  return checked
}
