// The BFD engine (RFC 5880/5881/5883), being built under issue 4: the model in types.ts so far.
export * from './types.js';
export * from './packet.js';
export * from './auth.js';
export * from './fsm.js';
export * from './profile.js';
