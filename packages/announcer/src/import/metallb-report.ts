// The import's output as text: our objects as YAML documents, and the report for people (stderr).
import { dumpYaml } from '@kubernetes/client-node';
import type { KubeObject } from '../config/types.js';
import { METALLB_ANNOTATIONS } from '../service/annotations.js';
import type { ANNOTATION } from '../service/model.js';
import type { ImportNote, MetalLBImportResult } from './metallb-types.js';

/** One YAML document per object, each starting with "---". */
export function objectsYaml(objects: readonly KubeObject[]): string {
  return objects.map((o) => `---\n${dumpYaml(o, { noRefs: true, lineWidth: -1 })}`).join('');
}

/** The file name of an object under --output-dir: "bgppeer-tor-a.yaml" (names are DNS subdomains). */
export function objectFileName(object: KubeObject): string {
  return `${(object.kind ?? 'object').toLowerCase()}-${object.metadata?.name ?? 'unnamed'}.yaml`;
}

const count = (r: Record<string, number>): string =>
  Object.keys(r).length === 0
    ? 'nothing'
    : Object.entries(r)
        .map(([kind, n]) => `${n} ${kind}`)
        .join(', ');

/** The report: what was read and written, each note by severity, and the problems of bad input. */
export function formatImportReport(result: MetalLBImportResult): string[] {
  const lines: string[] = [];
  if (result.problems.length > 0) {
    lines.push(
      `bad input, nothing written (${result.problems.length} problem${result.problems.length > 1 ? 's' : ''}):`,
    );
    for (const p of result.problems) lines.push(`  ${p.document}: ${p.field}: ${p.message}`);
  } else {
    const written: Record<string, number> = {};
    for (const o of result.objects) written[o.kind ?? '?'] = (written[o.kind ?? '?'] ?? 0) + 1;
    lines.push(`read ${count(result.read)}; wrote ${count(written)}`);
  }
  const section = (severity: ImportNote['severity'], title: string): void => {
    const notes = result.notes.filter((n) => n.severity === severity);
    if (notes.length === 0) return;
    lines.push(title);
    for (const n of notes) lines.push(`  ${n.object}: ${n.field}: ${n.message}`);
  };
  section('needs-user', 'needs you (not carried over, or only once you act):');
  section('changed', 'changed on the way:');
  section('kept', 'kept as they are:');
  const keys = (Object.keys(METALLB_ANNOTATIONS) as (keyof typeof ANNOTATION)[])
    .map((name) => METALLB_ANNOTATIONS[name].join(', '))
    .join('; ');
  lines.push(
    `Service annotations: bgp-announce reads MetalLB's keys too (${keys}); its own (bgp-announce.io/...) win when both are set. Services need no edits.`,
  );
  return lines;
}
