import { createServer, type AddressInfo } from "node:net"

/** A loopback port nothing listens on (bound, read, released): servers can take it, and requests to it are refused. */
export async function unusedLoopbackPort(): Promise<number> {
  const server = createServer()
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject)
    server.listen(0, "127.0.0.1", () => resolve())
  })
  const port = (server.address() as AddressInfo).port
  await new Promise<void>((resolve) => server.close(() => resolve()))
  return port
}
