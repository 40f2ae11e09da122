// The BGP speaker, RIB and Kubernetes controller are not built yet: see issues 3 and 5. This package
// exists so the workspace layout of DESIGN.md is in place; it exports nothing.
export {};
