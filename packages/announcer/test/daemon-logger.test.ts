// The daemon's log lines: JSON with the level as text and an ISO time, per-peer children, and the
// level each Speaker event gets (an emitter stands in for the Speaker).
import t from 'tap';
import { EventEmitter } from 'node:events';
import type { Speaker } from '@bgp-announce/bgp-speaker';
import { createLogger, logSpeakerEvents, notificationSummary, peerLogger } from '../src/daemon/logger.js';
import { captureLog } from './daemon-helpers.js';

t.test('createLogger and peerLogger', async (t) => {
  const out = captureLog();
  const logger = createLogger({ level: 'warn', base: { node: 'node-a' }, destination: out });
  logger.info('dropped');
  peerLogger(logger, 'tor-a').warn({ event: 'x' }, 'kept');
  t.equal(out.lines.length, 1, 'info is below warn');
  t.match(out.lines[0], { level: 'warn', node: 'node-a', peer: 'tor-a', event: 'x', msg: 'kept', pid: process.pid });
  t.match(out.lines[0]?.time, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
});

t.test('Speaker events as log lines', async (t) => {
  const out = captureLog();
  const speaker = new EventEmitter();
  let stopping = false;
  const detach = logSpeakerEvents(
    speaker as unknown as Speaker,
    createLogger({ level: 'debug', destination: out }),
    () => stopping,
  );
  speaker.emit('peerState', 'tor-a', 'OpenSent', 'Connect');
  speaker.emit('down', 'tor-a', {
    kind: 'notification-received',
    message: 'peer sent a NOTIFICATION',
    notification: { type: 'NOTIFICATION', code: 6, subcode: 2, shutdownMessage: 'maintenance' },
  });
  speaker.emit('down', 'tor-a', { kind: 'manual-stop', message: 'stopped' });
  stopping = true;
  speaker.emit('down', 'tor-b', {
    kind: 'connection-failed',
    message: 'closed',
    socketError: { code: 'ECONNRESET', message: 'reset' },
  });
  speaker.emit('error', 'tor-b', new Error('no next hop'));
  speaker.emit('bfd', 'tor-b', { from: 'Up', to: 'Down', diag: 1 }, 'torn-down');
  speaker.emit(
    'routesReceived',
    'tor-a',
    { announced: 2, withdrawn: 0, treatAsWithdraw: false, swept: 0 },
    { type: 'UPDATE', withdrawn: [], attributes: {}, nlri: [{ prefix: '192.0.2.0/24' }, { prefix: '192.0.2.1/32' }] },
  );
  t.match(out.lines, [
    {
      level: 'info',
      peer: 'tor-a',
      event: 'state',
      from: 'Connect',
      to: 'OpenSent',
      msg: 'session Connect -> OpenSent',
    },
    { level: 'warn', peer: 'tor-a', event: 'down', notification: '6/2 Cease/Administrative Shutdown ("maintenance")' },
    { level: 'info', peer: 'tor-a', event: 'down', kind: 'manual-stop' },
    { level: 'info', peer: 'tor-b', event: 'down', socketError: 'ECONNRESET' },
    { level: 'warn', peer: 'tor-b', event: 'error', msg: 'no next hop' },
    { level: 'warn', peer: 'tor-b', event: 'bfd', outcome: 'torn-down' },
    { level: 'debug', peer: 'tor-a', event: 'update', announced: 2, withdrawn: 0 },
  ]);
  t.equal(out.lines.length, 7);
  detach();
  speaker.emit('peerState', 'tor-a', 'Idle', 'OpenSent');
  t.equal(out.lines.length, 7, 'nothing after detach');
  t.equal(notificationSummary({ type: 'NOTIFICATION', code: 4, subcode: 0 }), '4/0 Hold Timer Expired');
});
