// Helpers of the `import metallb` table tests: MetalLB documents written from its field reference
// (documentation addresses and AS numbers), imported as the CLI does, and the table runner.
import t from 'tap';
import { readConfigDocuments } from '../../src/config/file.js';
import { validateConfig } from '../../src/config/validate.js';
import { importMetalLB } from '../../src/import/metallb-import.js';
import type { MetalLBImportResult } from '../../src/import/metallb-types.js';

/** Imports YAML text as the CLI does (documents and Lists through the config file's reader). */
export function importYaml(text: string, options = {}): MetalLBImportResult {
  const read = readConfigDocuments(text, 'in.yaml');
  if (read.problems.length > 0) throw new Error(`test input does not parse: ${JSON.stringify(read.problems)}`);
  return importMetalLB(
    read.objects.map((object, i) => ({ object, origin: read.origins[i]! })),
    options,
  );
}

export const doc = (apiVersion: string, kind: string, name: string, spec: string, labels = ''): string =>
  `---\napiVersion: ${apiVersion}\nkind: ${kind}\nmetadata:\n  name: ${name}\n  namespace: metallb-system\n${labels}spec:\n${spec
    .trim()
    .split('\n')
    .map((l) => `  ${l}`)
    .join('\n')}\n`;
export const B1 = 'metallb.io/v1beta1';
export const B2 = 'metallb.io/v1beta2';
export const PEER = doc(
  B2,
  'BGPPeer',
  'tor-a',
  'myASN: 64500\npeerASN: 64496\npeerAddress: 192.0.2.1\nconnectTime: 120s',
);
export const POOL = doc(B1, 'IPAddressPool', 'public', 'addresses: [203.0.113.0/24]');

export interface Case {
  name: string;
  input: string;
  status: 0 | 1 | 2;
  /** Specs of written objects by "Kind/name" (compared with t.match: only the fields given). */
  objects?: Record<string, Record<string, unknown>>;
  /** Written objects that must not be there. */
  absent?: string[];
  /** Notes that must be in the report: "severity field message-pattern". */
  notes?: [string, string, RegExp][];
}

/** One subtest per case: the objects written, the notes, the status, and our validation of the output. */
export function runCases(cases: readonly Case[]): void {
  for (const c of cases) {
    t.test(c.name, async (t) => {
      const result = importYaml(c.input);
      t.same(result.problems, [], 'no problems');
      t.equal(result.status, c.status, 'exit status');
      const written = new Map(result.objects.map((o) => [`${o.kind}/${o.metadata?.name}`, o]));
      for (const [key, spec] of Object.entries(c.objects ?? {})) {
        const o = written.get(key);
        t.ok(o, `${key} written`);
        t.equal(o?.apiVersion, 'bgp-announce.io/v1alpha1');
        t.equal(o?.metadata?.namespace, 'bgp-announce');
        t.match(o?.spec, spec, `${key} spec`);
      }
      for (const key of c.absent ?? []) t.notOk(written.has(key), `${key} not written`);
      for (const [severity, field, message] of c.notes ?? []) {
        const found = result.notes.find((n) => n.severity === severity && n.field === field && message.test(n.message));
        t.ok(found, `note ${severity} ${field} ${message}`);
      }
      if (c.status === 0)
        t.notOk(
          result.notes.some((n) => n.severity === 'needs-user'),
          'nothing needs the user',
        );
      // What the daemon would do with the output.
      t.same(validateConfig(result.objects).problems, [], 'the output passes our validation');
    });
  }
}
