// The BFD engine (RFC 5880/5881/5883): the model, the codec and authentication, the session state machine,
// profiles, and the engine that runs sessions in a worker thread.
export * from './types.js';
export * from './packet.js';
export * from './auth.js';
export * from './fsm.js';
export * from './profile.js';
export * from './demux.js';
export * from './clock.js';
export * from './runner.js';
export * from './bfd-transport.js';
export * from './engine.js';
