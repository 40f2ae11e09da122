// A worker_thread for udp-worker.test.ts: opens a UdpTtlSocket on its own event loop and reports to the
// parent. workerData.mode: 'receive' (post every datagram, obey send/close commands), 'hold' (stay open
// until terminated), 'unref' (unref the socket and let the worker end by itself), 'throw' (onMessage throws).
import { parentPort, threadId, workerData, type MessagePort } from 'node:worker_threads';
import { UdpTtlSocket, type UdpTtlMessage } from '../src/index.js';

export type WorkerMode = 'receive' | 'hold' | 'unref' | 'throw';
export interface WorkerSetup {
  mode: WorkerMode;
  family: 4 | 6;
  address: string;
  port: number;
}
export type ToWorker = { type: 'send'; payload: string; address: string; port: number } | { type: 'close' };
export type FromWorker =
  | { type: 'open'; port: number; threadId: number }
  | { type: 'message'; message: Omit<UdpTtlMessage, 'payload'> & { payload: string } }
  | { type: 'closed' };

const setup = workerData as WorkerSetup;
// Run directly (tap given the test directory runs every .ts file) there is nothing to do.
if (parentPort) start(parentPort);

function start(port: MessagePort): void {
  const socket = UdpTtlSocket.open({
    family: setup.family,
    address: setup.address,
    port: setup.port,
    onMessage: (m) => {
      if (setup.mode === 'throw') throw new Error(`thrown by onMessage for ${m.payload.toString()}`);
      const reply: FromWorker = { type: 'message', message: { ...m, payload: m.payload.toString() } };
      port.postMessage(reply);
    },
  });

  if (setup.mode === 'unref') {
    socket.unref();
    port.postMessage({ type: 'open', port: socket.localPort, threadId } satisfies FromWorker);
    port.unref();
  } else {
    port.on('message', (command: ToWorker) => {
      if (command.type === 'send') socket.send(Buffer.from(command.payload), command.address, command.port);
      if (command.type === 'close') {
        socket.close();
        port.postMessage({ type: 'closed' } satisfies FromWorker);
        port.close();
      }
    });
    port.postMessage({ type: 'open', port: socket.localPort, threadId } satisfies FromWorker);
  }
}
