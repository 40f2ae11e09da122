// The BFD engine (RFC 5880/5881/5883) is not built yet: see issue 4. This package exists so the
// workspace layout of DESIGN.md is in place; it exports nothing.
export {};
