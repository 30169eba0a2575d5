/**
 * The memory stack's upstream images, named once. The module's `--falkordb-image` and `--valkey-image` defaults and
 * the Helm chart's values (written by `npm run deploy-images`, checked by tests/module/deploy-images.test.ts; deploy/
 * is rendered from the chart) both come from here, so a version bump is one edit.
 *
 * Written as string literals: the SDK's introspector reads a function's default from the source and resolves a
 * constant only when its initializer is a literal (a computed one makes the argument optional with no default).
 *
 * Pinned by tag and digest. The digests are the ones public projects record for these tags (the multi-platform index);
 * no registry is reachable where this is built and tested, so they could not be checked against Docker Hub: pin your
 * own with --falkordb-image / --valkey-image, or in the chart, when in doubt.
 */
export const DEFAULT_FALKORDB_IMAGE =
  "docker.io/falkordb/falkordb:v4.18.3@sha256:30c530c193ac48cb6ea8c6cae745f793d2c098a0a138f7b3e46c1d90848845ba"
export const DEFAULT_VALKEY_IMAGE =
  "docker.io/valkey/valkey:8.1.9@sha256:f0ba225266310efba5fb33383e21c64fbd07907304224786c780606e7ebd7327"

export interface PinnedImage {
  /** Fully qualified, as Kubernetes and Podman read it (no short-name resolution). */
  repository: string
  tag: string
  /** `sha256:…` of the image index. */
  digest: string
}

/** `repository:tag@digest` taken apart. */
export function parsePinnedReference(reference: string): PinnedImage {
  const match = /^([^:@]+(?::\d+)?[^:@]*):([\w][\w.-]*)@(sha256:[0-9a-f]{64})$/.exec(reference)
  if (!match) throw new Error(`${reference} is not repository:tag@sha256:digest`)
  return { repository: match[1], tag: match[2], digest: match[3] }
}

/** `repository:tag@digest`: the engine and the kubelet pull by the digest; the tag stays for the reader. */
export function pinnedReference(image: PinnedImage): string {
  return `${image.repository}:${image.tag}@${image.digest}`
}

export const MEMORY_IMAGES = {
  falkordb: parsePinnedReference(DEFAULT_FALKORDB_IMAGE),
  valkey: parsePinnedReference(DEFAULT_VALKEY_IMAGE),
} as const satisfies Record<string, PinnedImage>
