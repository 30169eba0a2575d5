/**
 * The memory stack beside the server: FalkorDB (the Graphiti graph) and Valkey (the durable ingest queue) as Dagger
 * services, bound to the server container by hostname, with the image's FALKORDB_HOST/VALKEY_HOST and ports pointed
 * at them.
 */
import { Container, Service } from "@dagger.io/dagger"

import { containerOn } from "./platform-container.js"

/** FalkorDB's and Valkey's pinned images, named once in memory-images.ts for the module and the chart alike. */
export { DEFAULT_FALKORDB_IMAGE, DEFAULT_VALKEY_IMAGE } from "./memory-images.js"

export const FALKORDB_HOSTNAME = "falkordb"
export const VALKEY_HOSTNAME = "valkey"
/** FalkorDB's own port, and the image's FALKORDB_PORT default. */
export const FALKORDB_PORT = 6379
/** The image's VALKEY_PORT default (the pod runs Valkey beside FalkorDB, so not Valkey's own 6379). */
export const VALKEY_PORT = 6380

export interface MemoryStackImages {
  falkordbImage: string
  valkeyImage: string
}

export interface MemoryServices {
  falkordb: Service
  valkey: Service
}

/**
 * The two services. Each is ready when its port accepts a connection: the Docker health check an image may carry is
 * removed, so the engine takes the port check instead (core/service.go, startContainer: `ctr.Config.Healthcheck != nil`
 * picks the Docker check, else newPortHealth over the exposed ports). FalkorDB's web browser is switched off: nothing
 * uses it and it would start a Node server on port 3000. `useEntrypoint` keeps each image's entrypoint in front of the
 * command; given args replace the image's CMD (core/container.go, AsService). They run on the engine's own platform,
 * whatever the server's: the engine starts a service without the emulator it gives execs (core/service.go,
 * startContainer; core/container_exec.go, getEmulator; dagger/dagger#8060), so a foreign-platform service fails on a
 * host without binfmt, and the graph and the queue speak the same protocol on any architecture. Pin them by the digest
 * of their multi-platform index: `from` takes the platform of the image it pulls, so a single platform's manifest
 * digest would run that platform whatever the engine is.
 */
export function memoryServices(images: MemoryStackImages): MemoryServices {
  const falkordb = containerOn(undefined)
    .from(images.falkordbImage)
    .withoutDockerHealthcheck()
    .withEnvVariable("BROWSER", "0")
    .withExposedPort(FALKORDB_PORT)
    .asService({ useEntrypoint: true })
  const valkey = containerOn(undefined)
    .from(images.valkeyImage)
    .withoutDockerHealthcheck()
    .withExposedPort(VALKEY_PORT)
    // Protected mode would refuse the server's connections from another host while Valkey has no password.
    .asService({ args: ["valkey-server", "--port", String(VALKEY_PORT), "--protected-mode", "no"], useEntrypoint: true })
  return { falkordb, valkey }
}

/** The server container with both services bound by hostname and the memory process pointed at them. */
export function withMemoryStack(server: Container, services: MemoryServices): Container {
  return server
    .withServiceBinding(FALKORDB_HOSTNAME, services.falkordb)
    .withServiceBinding(VALKEY_HOSTNAME, services.valkey)
    .withEnvVariable("FALKORDB_HOST", FALKORDB_HOSTNAME)
    .withEnvVariable("FALKORDB_PORT", String(FALKORDB_PORT))
    .withEnvVariable("VALKEY_HOST", VALKEY_HOSTNAME)
    .withEnvVariable("VALKEY_PORT", String(VALKEY_PORT))
}
