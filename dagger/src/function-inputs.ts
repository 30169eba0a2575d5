/**
 * Checks of the arguments of `healthcheck` and `serve`, run before any container is built or started, so a mistake
 * ends in a message naming the argument instead of a failure deep in the engine.
 */
import { BuildInputError } from "./build-context.js"

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
