// A host that opens COUNT TCP connections to HOST:PORT and sends nothing on them, run as a process of
// its own so that its descriptors are not the tested process's. Usage: node idle-flood.mjs HOST PORT COUNT
// Prints JSON lines: {"event":"opened","opened":N,"failed":N} once every connection attempt is over,
// then {"event":"closed","opened":N,"maxLifetimeMs":N,"gotTimeout":N} once the server has closed
// all of them (maxLifetimeMs: the longest a connection lived; gotTimeout: how many were answered
// "408 Request Timeout" first). Exits when its stdin closes (the test is over).
import net from 'node:net';

const [host, portText, countText] = process.argv.slice(2);
const port = Number(portText);
const count = Number(countText);
const BATCH = 100; // below Node's listen backlog (511), so no SYN waits for a retransmission

let opened = 0;
let failed = 0;
let closed = 0;
let gotTimeout = 0;
let maxLifetimeMs = 0;
let reported = false;
let openedAll = false;
const print = (o) => process.stdout.write(`${JSON.stringify(o)}\n`);

function allClosed() {
  if (reported || closed < opened) return;
  reported = true;
  print({ event: 'closed', opened, maxLifetimeMs, gotTimeout });
}

function connectOne() {
  return new Promise((resolve) => {
    const socket = net.connect({ host, port });
    let openedAt;
    let answer = '';
    socket.on('data', (d) => {
      answer += d.toString('latin1');
    });
    socket.on('error', () => {});
    socket.once('connect', () => {
      openedAt = performance.now();
      opened++;
      resolve();
    });
    socket.once('close', () => {
      if (openedAt === undefined) {
        failed++;
        resolve();
        return;
      }
      closed++;
      maxLifetimeMs = Math.max(maxLifetimeMs, performance.now() - openedAt);
      if (answer.startsWith('HTTP/1.1 408')) gotTimeout++;
      if (openedAll) allClosed();
    });
  });
}

for (let i = 0; i < count; i += BATCH) {
  await Promise.all(Array.from({ length: Math.min(BATCH, count - i) }, connectOne));
}
openedAll = true;
print({ event: 'opened', opened, failed });
allClosed();
process.stdin.resume();
process.stdin.on('end', () => process.exit(0));
process.stdin.on('close', () => process.exit(0));
