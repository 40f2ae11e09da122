// The working state of one step of the BFD state machine (fsm.ts): the session given and its copy,
// made on the first change only (copy on write), the actions so far in a scratch array that keeps its
// storage, and the actions shared between steps of an unchanged session. This is how a transition
// that changes nothing allocates next to nothing: it runs for every packet sent and received.
import type { BfdAction } from './fsm-types.js';
import type { BfdSession } from './session-state.js';

/** One transition under way: the session given, its copy once something changed, the actions so far. */
export interface Step {
  given: BfdSession;
  /** The changed copy; undefined while the event has changed nothing. */
  copy: BfdSession | undefined;
  /** The actions so far: the first `count` entries of a scratch array that keeps its storage between steps. */
  readonly actions: (BfdAction | undefined)[];
  count: number;
  now: number;
  random: () => number;
  stateChanged: boolean;
  /** A Poll arrived: answer it (at once, or later within the rate limit). */
  pollReceived: boolean;
}

/** The Step of the transition under way, reused: transitions do not nest (a nested one gets its own). */
let idleStep: Step | undefined;

/** The Step for a transition of `given` at env.now. */
export function takeStep(given: BfdSession, env: { now: number; random: () => number }): Step {
  const t = idleStep ?? {
    given,
    copy: undefined,
    actions: [],
    count: 0,
    now: 0,
    random: env.random,
    stateChanged: false,
    pollReceived: false,
  };
  idleStep = undefined;
  t.given = given;
  t.now = env.now;
  t.random = env.random;
  return t;
}

/** Hands the Step back once its transition has returned. */
export function releaseStep(t: Step): void {
  t.given = undefined as unknown as BfdSession; // keeps nothing alive
  t.copy = undefined;
  for (let i = 0; i < t.count; i++) t.actions[i] = undefined; // keeps nothing alive, keeps the storage
  t.count = 0;
  t.stateChanged = false;
  t.pollReceived = false;
  idleStep = t;
}

/** Actions that depend on nothing but an unchanged session, made once per session object and frozen, so sharing them is safe. */
interface SharedActions {
  send: BfdAction | undefined;
  detection: BfdAction | undefined;
}
const sharedActions = new WeakMap<BfdSession, SharedActions>();

/** The shared actions of an unchanged session. */
export function shared(s: BfdSession): SharedActions {
  let a = sharedActions.get(s);
  if (a === undefined) sharedActions.set(s, (a = { send: undefined, detection: undefined }));
  return a;
}

/** Appends an action. */
export function emit(t: Step, action: BfdAction): void {
  t.actions[t.count++] = action;
}

/** The session as it stands in this step. */
export function current(t: Step): BfdSession {
  return t.copy ?? t.given;
}

/** The session to change: a copy of the one given (its counters too), made on the first change. */
export function changing(t: Step): BfdSession {
  if (t.copy === undefined) t.copy = { ...t.given, counters: { ...t.given.counters } };
  return t.copy;
}

/** Sets a field, copying the session only when the value differs. */
export function assign<K extends keyof BfdSession>(t: Step, key: K, value: BfdSession[K]): void {
  if (current(t)[key] !== value) changing(t)[key] = value;
}
