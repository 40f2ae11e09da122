// Byte pipes between two sockets, used twice to carry the lab's Kubernetes API from the root
// namespace's loopback to the fabric: a unix socket server in the lab process (connections piped to
// the API server's TCP port) and the forwarder in the API namespace (TCP connections piped to that
// unix socket, which is reachable from any network namespace). A reset on one side resets the other,
// so the daemons see API server restarts and dropped watches as they happen.
import type { Server, Socket } from 'node:net';

/** Joins two sockets: bytes both ways, an end is passed on, an error destroys both. */
export function joinSockets(a: Socket, b: Socket): void {
  a.pipe(b);
  b.pipe(a);
  const destroyBoth = (): void => {
    a.destroy();
    b.destroy();
  };
  a.on('error', destroyBoth);
  b.on('error', destroyBoth);
  // A side that closed without an error: let the other finish writing what it has, then close.
  a.on('close', (hadError) => (hadError ? b.destroy() : b.end()));
  b.on('close', (hadError) => (hadError ? a.destroy() : a.end()));
}

/** Every connection the server accepts is joined to a new connection made by `connect`. */
export function pipeConnections(server: Server, connect: () => Socket): Server {
  return server.on('connection', (client) => joinSockets(client, connect()));
}
