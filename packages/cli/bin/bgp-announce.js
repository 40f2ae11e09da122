#!/usr/bin/env node
// The installed command: runs the built CLI (packages/cli/dist, made by `npx tsc -b`).
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const main = new URL('../dist/main.js', import.meta.url);
if (!existsSync(fileURLToPath(main))) {
  process.stderr.write(
    'bgp-announce: not built yet; run `npx tsc -b` (or `bash scripts/test.sh`) at the repository root\n',
  );
  process.exit(2);
}
await import(main.href);
