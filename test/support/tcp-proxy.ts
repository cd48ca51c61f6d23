import { connect, createServer, type AddressInfo, type Socket } from 'node:net'

/**
 * A TCP proxy to `target` that a test can cut and restore, to play a database that goes away and comes back.
 * Cut: the open connections are destroyed and the port stops listening (new connections are refused).
 * Restore: the same port listens again.
 */
export type TcpProxy = {
  port: number
  cut(): Promise<void>
  restore(): Promise<void>
  close(): Promise<void>
}

export async function startTcpProxy(target: { host: string; port: number }): Promise<TcpProxy> {
  const sockets = new Set<Socket>()
  const track = (socket: Socket) => {
    sockets.add(socket)
    socket.on('close', () => sockets.delete(socket))
    // A destroyed peer is what the test wants: its errors are expected.
    socket.on('error', () => {})
  }
  const server = createServer((client) => {
    const upstream = connect(target.port, target.host)
    track(client)
    track(upstream)
    client.pipe(upstream).pipe(client)
    client.on('close', () => upstream.destroy())
    upstream.on('close', () => client.destroy())
  })
  const listen = (port: number) =>
    new Promise<void>((resolve, reject) => {
      server.once('error', reject)
      server.listen(port, '127.0.0.1', () => {
        server.off('error', reject)
        resolve()
      })
    })
  const stop = async () => {
    if (!server.listening) return
    const closed = new Promise<void>((resolve) => server.close(() => resolve()))
    for (const socket of sockets) socket.destroy()
    await closed
  }
  await listen(0)
  const port = (server.address() as AddressInfo).port
  return { port, cut: stop, restore: () => listen(port), close: stop }
}
