/**
 * The memory stack's upstream images, named once. The module's `--falkordb-image` and `--valkey-image` defaults
 * (memory-stack.ts) and the pod's `image:` lines in deploy/ (written by `npm run deploy-images`, checked by
 * tests/module/deploy-images.test.ts) are both taken from here, so a version bump is one edit.
 *
 * Pinned by tag and digest. The digests are the ones public projects record for these tags (the multi-platform index);
 * no registry is reachable where this is built and tested, so they could not be checked against Docker Hub: pin your
 * own with --falkordb-image / --valkey-image, or in the pod, when in doubt.
 */
export interface PinnedImage {
  /** Fully qualified, as Kubernetes and Podman read it (no short-name resolution). */
  repository: string
  tag: string
  /** `sha256:…` of the image index. */
  digest: string
}

export const MEMORY_IMAGES = {
  falkordb: {
    repository: "docker.io/falkordb/falkordb",
    tag: "v4.18.3",
    digest: "sha256:30c530c193ac48cb6ea8c6cae745f793d2c098a0a138f7b3e46c1d90848845ba",
  },
  valkey: {
    repository: "docker.io/valkey/valkey",
    tag: "8.1.9",
    digest: "sha256:f0ba225266310efba5fb33383e21c64fbd07907304224786c780606e7ebd7327",
  },
} as const satisfies Record<string, PinnedImage>

/** `repository:tag@digest`: the engine and the kubelet pull by the digest; the tag stays for the reader. */
export function pinnedReference(image: PinnedImage): string {
  return `${image.repository}:${image.tag}@${image.digest}`
}
