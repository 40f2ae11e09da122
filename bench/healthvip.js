// How fast the API VIP leaves a node whose API server fails (issue 14): the interop test
// test/interop/frr-health-vip.test.ts run as it is (FRR 8.4 and three `bgp-announce daemon --config`
// in namespaces, each with a health-checked StaticRoute and a stand-in API server), which, when
// HEALTH_VIP_RESULTS names a file, ends with five rounds at interval 1 s, fall 2, drain 0: node-2's
// /readyz starts answering 503, and the time until its next hop is gone from the router's kernel
// route is measured. Goal: interval x fall + 0.5 s.
// Needs root, ip and FRR (Debian: frr); about 1.5 minutes.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { median } from './run.js';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const TEST = 'test/interop/frr-health-vip.test.ts';

function unavailable() {
  if (process.getuid?.() !== 0) return 'needs root (network namespaces)';
  if (!existsSync('/usr/lib/frr/bgpd')) return 'needs FRR (Debian: apt-get install frr)';
  if (!existsSync(join(ROOT, 'packages/cli/dist/main.js'))) return 'build first (npx tsc -b)';
  return undefined;
}

export const rows = [
  {
    name: 'API VIP: health endpoint failing -> next hop gone at the router (interval 1 s, fall 2, drain 0), slowest of 5',
    unit: 'ms',
    goal: 2500,
    lowerIsBetter: true,
    async run() {
      const why = unavailable();
      if (why) throw new Error(`the health check row ${why}`);
      const dir = mkdtempSync(join(tmpdir(), 'healthvip-bench-'));
      try {
        const file = join(dir, 'results.json');
        const r = spawnSync('npx', ['tap', '--disable-coverage', '--reporter=tap', TEST], {
          cwd: ROOT,
          encoding: 'utf8',
          env: { ...process.env, HEALTH_VIP_RESULTS: file, CI: 'true' },
          timeout: 600_000,
        });
        if (!existsSync(file))
          throw new Error(`${TEST} wrote no figures (exit ${r.status}): ${(r.stdout + r.stderr).slice(-2000)}`);
        const { failToGone } = JSON.parse(readFileSync(file, 'utf8'));
        return {
          ours: Math.max(...failToGone),
          note: `5 rounds, /readyz answering 503 -> the router's kernel route without the node: ${failToGone.join(', ')} ms (median ${median(failToGone)}); a probe every 1 s, so the second failure lands 1-2 s after the first failing answer, plus the UPDATE to the router and zebra's install`,
        };
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    },
  },
];
