/**
 * One image for several platforms, in the form the engine publishes and exports: one built container per platform,
 * handed as `platformVariants` to an empty container's `publish` or `asTarball`. Read in the engine's source
 * (core/container.go, Publish, Export, AsTarball → getVariantRefs): the empty container adds no variant (it has no
 * filesystem: filterEmptyContainers), each variant is keyed by its container's platform (two on one platform fail with
 * "duplicate platform"), and the result is one index with a manifest per platform. Built without an engine call, so the
 * tests can read the query.
 */
import { Container, dag, File, Secret } from "@dagger.io/dagger"

/** Credentials for the registry `publish` pushes to; without them the engine uses the ones it already has. */
export interface RegistryCredentials {
  username: string
  password: Secret
}

/** The multi-platform image as an OCI image archive (one index, a manifest per platform). */
export function multiPlatformTarball(variants: Container[]): File {
  return dag.container().asTarball({ platformVariants: variants })
}

/** Pushes the multi-platform image to `address`; resolves to the address with the index's digest. */
export function publishMultiPlatform(variants: Container[], address: string, credentials?: RegistryCredentials): Promise<string> {
  let root = dag.container()
  // The engine adds the credentials to the session's registry auth whatever the container (core/schema/container.go,
  // withRegistryAuth: auth.AddCredential); the secret's value never enters the query or a layer.
  if (credentials) root = root.withRegistryAuth(address, credentials.username, credentials.password)
  return root.publish(address, { platformVariants: variants })
}
