// The BFD engine (RFC 5880/5881/5883), being built under issue 4.
export * from './types.js';
export * from './packet.js';
export * from './auth.js';
