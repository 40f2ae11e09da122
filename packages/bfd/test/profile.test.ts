// BFD profiles: MetalLB's defaults and ranges, clear errors naming the field, conversion to µs.
import t from 'tap';
import {
  BFD_PROFILE_DEFAULTS,
  BfdProfileError,
  bfdProfile,
  sessionConfigFromProfile,
  type BfdProfileInput,
} from '../src/profile.js';
import { bfdTransition, createBfdSession } from '../src/fsm.js';

/** Untrusted input as it comes from parsed YAML. */
const untrusted = (o: unknown): BfdProfileInput => o as BfdProfileInput;

/** The BfdProfileError thrown by `fn`, or undefined. */
function errorOf(fn: () => unknown): BfdProfileError | undefined {
  try {
    fn();
  } catch (e) {
    if (e instanceof BfdProfileError) return e;
    throw e;
  }
  return undefined;
}

t.test('MetalLB defaults', async (t) => {
  t.strictSame(bfdProfile({ name: 'default' }), {
    name: 'default',
    receiveInterval: 300,
    transmitInterval: 300,
    detectMultiplier: 3,
    echoInterval: 50,
    echoMode: false,
    passiveMode: false,
    minimumTtl: 254,
  });
  t.equal(BFD_PROFILE_DEFAULTS.minimumTtl, 254);
  const p = bfdProfile({
    name: 'fast',
    receiveInterval: 10,
    transmitInterval: 60000,
    detectMultiplier: 255,
    passiveMode: true,
    minimumTtl: 1,
    echoInterval: 10,
  });
  t.equal(p.receiveInterval, 10);
  t.equal(p.transmitInterval, 60000);
  t.equal(p.detectMultiplier, 255);
  t.equal(p.passiveMode, true);
  t.equal(p.minimumTtl, 1);
  t.equal(p.echoInterval, 10);
  t.equal(bfdProfile({ name: 'x', echoMode: false }).echoMode, false);
});

t.test('out-of-range and mistyped fields: the error names the field and the range', async (t) => {
  const cases: [Record<string, unknown>, string, string][] = [
    [
      { receiveInterval: 9 },
      'receiveInterval',
      'BFD profile "p": receiveInterval must be an integer from 10 to 60000 (milliseconds), got 9',
    ],
    [
      { receiveInterval: 60001 },
      'receiveInterval',
      'BFD profile "p": receiveInterval must be an integer from 10 to 60000 (milliseconds), got 60001',
    ],
    [
      { transmitInterval: 0 },
      'transmitInterval',
      'BFD profile "p": transmitInterval must be an integer from 10 to 60000 (milliseconds), got 0',
    ],
    [
      { transmitInterval: 300.5 },
      'transmitInterval',
      'BFD profile "p": transmitInterval must be an integer from 10 to 60000 (milliseconds), got 300.5',
    ],
    [
      { transmitInterval: '300' },
      'transmitInterval',
      'BFD profile "p": transmitInterval must be an integer from 10 to 60000 (milliseconds), got "300"',
    ],
    [
      { detectMultiplier: 1 },
      'detectMultiplier',
      'BFD profile "p": detectMultiplier must be an integer from 2 to 255, got 1',
    ],
    [
      { detectMultiplier: 256 },
      'detectMultiplier',
      'BFD profile "p": detectMultiplier must be an integer from 2 to 255, got 256',
    ],
    [
      { echoInterval: 5 },
      'echoInterval',
      'BFD profile "p": echoInterval must be an integer from 10 to 60000 (milliseconds), got 5',
    ],
    [{ minimumTtl: 255 }, 'minimumTtl', 'BFD profile "p": minimumTtl must be an integer from 1 to 254, got 255'],
    [{ minimumTtl: 0 }, 'minimumTtl', 'BFD profile "p": minimumTtl must be an integer from 1 to 254, got 0'],
    [{ passiveMode: 'yes' }, 'passiveMode', 'BFD profile "p": passiveMode must be true or false, got "yes"'],
    [{ echoMode: 1 }, 'echoMode', 'BFD profile "p": echoMode must be true or false, got 1'],
  ];
  for (const [fields, field, message] of cases) {
    const e = errorOf(() => bfdProfile(untrusted({ name: 'p', ...fields })));
    t.equal(e?.field, field, `${JSON.stringify(fields)}: field`);
    t.equal(e?.message, message);
  }
});

t.test('echo mode is refused with a clear message (not implemented)', async (t) => {
  const e = errorOf(() => bfdProfile({ name: 'echo', echoMode: true }));
  t.equal(e?.field, 'echoMode');
  t.match(
    e?.message,
    /^BFD profile "echo": echoMode true is not supported \(the BFD echo function is not implemented\)/,
  );
});

t.test('unknown fields, missing names and non-objects', async (t) => {
  const typo = errorOf(() => bfdProfile(untrusted({ name: 'p', recieveInterval: 300 })));
  t.equal(typo?.field, 'recieveInterval');
  t.match(
    typo?.message,
    /^BFD profile "p": unknown field "recieveInterval" \(known: name, receiveInterval, transmitInterval,/,
  );
  t.equal(
    errorOf(() => bfdProfile(untrusted({ receiveInterval: 300 })))?.message,
    'BFD profile name must be a non-empty string, got nothing',
  );
  t.equal(errorOf(() => bfdProfile(untrusted({ name: ' ' })))?.field, 'name');
  t.equal(
    errorOf(() => bfdProfile(untrusted({ name: 7 })))?.message,
    'BFD profile name must be a non-empty string, got 7',
  );
  t.equal(errorOf(() => bfdProfile(untrusted(null)))?.message, 'BFD profile must be an object with a name, got null');
  t.equal(
    errorOf(() => bfdProfile(untrusted(['p'])))?.message,
    'BFD profile must be an object with a name, got an array',
  );
  t.equal(errorOf(() => bfdProfile(untrusted('p')))?.message, 'BFD profile must be an object with a name, got string');
});

t.test('a profile becomes the session configuration in microseconds', async (t) => {
  t.strictSame(sessionConfigFromProfile(bfdProfile({ name: 'default' })), {
    desiredMinTxInterval: 300_000,
    requiredMinRxInterval: 300_000,
    detectMult: 3,
    passive: false,
  });
  const cfg = sessionConfigFromProfile(
    bfdProfile({ name: 'p', transmitInterval: 50, receiveInterval: 2000, detectMultiplier: 5, passiveMode: true }),
  );
  t.strictSame(cfg, { desiredMinTxInterval: 50_000, requiredMinRxInterval: 2_000_000, detectMult: 5, passive: true });
  // And the session advertises it: 1 s TX while Down (50 ms is below the floor), 2 s RX, mult 5.
  const s = createBfdSession({ ...cfg, passive: false }, 9);
  const out = bfdTransition(s, { type: 'start' }, { now: 0, random: () => 0 });
  const packet = out.actions[0]?.type === 'send' ? out.actions[0].packet : undefined;
  t.equal(packet?.desiredMinTxInterval, 1_000_000);
  t.equal(packet?.requiredMinRxInterval, 2_000_000);
  t.equal(packet?.detectMult, 5);
});
