// Our side of an interop session, run inside a network namespace (`ip netns exec NS node session-child.mjs
// '<json options>'`) because Node cannot enter a namespace per socket. Uses the BUILT packages (run
// `npx tsc -b` first). Prints one JSON object per line for every driver event; reads commands, one JSON
// object per line, on stdin: {"cmd":"announce"|"withdraw", "prefix", "nextHop", "communities", "asPath"}
// and {"cmd":"stop", "message"}; exits after stop.
import { createInterface } from 'node:readline';
import { packUpdates } from '../../packages/bgp-wire/dist/index.js';
import { peerConfig, SessionDriver } from '../../packages/bgp-speaker/dist/session/index.js';

const opts = JSON.parse(process.argv[2] ?? '{}');
const print = (obj) => process.stdout.write(`${JSON.stringify(obj)}\n`);

const driver = new SessionDriver({ config: peerConfig(opts.config), ...opts.transport });
driver.on('state', (to, from) => print({ event: 'state', from, to }));
driver.on('established', (n) =>
  print({ event: 'established', peerAs: n.peerAs, peerBgpId: n.peerBgpId, holdTime: n.holdTime }),
);
driver.on('update', (u) => print({ event: 'update', nlri: u.nlri, withdrawn: u.withdrawn, endOfRib: u.endOfRib }));
driver.on('notificationSent', (n) =>
  print({ event: 'notificationSent', code: n.code, subcode: n.subcode, shutdownMessage: n.shutdownMessage }),
);
driver.on('notificationReceived', (n) => print({ event: 'notificationReceived', code: n.code, subcode: n.subcode }));
driver.on('down', (r) => print({ event: 'down', kind: r.kind, message: r.message }));
driver.on('error', (e) => print({ event: 'error', message: e.message }));

const rl = createInterface({ input: process.stdin });
rl.on('line', async (line) => {
  let cmd;
  try {
    cmd = JSON.parse(line);
    if (cmd.cmd === 'announce' || cmd.cmd === 'withdraw') {
      const route = [{ prefix: cmd.prefix }];
      const input =
        cmd.cmd === 'announce'
          ? {
              attributes: {
                origin: 'igp',
                asPath: [{ type: 'AS_SEQUENCE', asns: cmd.asPath }],
                nextHop: cmd.nextHop,
                communities: cmd.communities ?? [],
              },
              nlri: route,
            }
          : { attributes: {}, withdrawn: route };
      driver.send(packUpdates(input, driver.sendContext));
      print({ event: 'sent', cmd: cmd.cmd, prefix: cmd.prefix });
    } else if (cmd.cmd === 'stop') {
      await driver.stop(cmd.message);
      print({ event: 'stopped', state: driver.state.state });
      rl.close();
      process.exit(0);
    }
  } catch (err) {
    print({ event: 'commandError', cmd: cmd?.cmd, message: String(err?.message ?? err) });
  }
});
rl.on('close', () => {
  // stdin closed by the parent (e.g. teardown): leave without waiting.
  setTimeout(() => process.exit(0), 100).unref();
});

driver.start();
print({ event: 'started' });
