/**
 * Where every platform-specific container of the module starts. The engine gives `container(platform:)` that platform
 * and, without the argument, its own (core/schema/container.go, container: `parent.Platform()`); `from` then pulls
 * the image's manifest for that platform (core/schema/container.go, from: ResolveImageConfig with the container's
 * platform), and every exec runs on it (under emulation when it is not the engine's).
 */
import { Container, dag, type Platform } from "@dagger.io/dagger"

/** An empty container on `platform`, or on the engine's own platform when it is undefined (no argument sent). */
export function containerOn(platform: Platform | undefined): Container {
  return platform === undefined ? dag.container() : dag.container({ platform })
}
