// What the lab's Prometheus reads, as text: its configuration (every node's daemon as a target with a
// static `node: node-N` label, short scrape and evaluation intervals) and the lab-only rule file, made
// from the shipped deploy/monitoring/alerts.rules.yaml with every `for:` shortened so an alert fires
// within seconds. The shipped file is only read, never changed.
import { fileURLToPath } from 'node:url';
import { metricsAddress } from './daemons.js';
import type { LabPlan } from './plan.js';

/** The lab scrapes and evaluates every 2 s. */
export const LAB_SCRAPE_INTERVAL = '2s';
export const LAB_EVALUATION_INTERVAL = '2s';
/** Every alert's `for:` in the lab's rule file. */
export const LAB_ALERT_FOR = '5s';
/** The job name of the daemons' targets. */
export const SCRAPE_JOB = 'bgp-announce';

/** The shipped alert rules (deploy/monitoring/ in the repository). */
export function shippedRulesFile(): string {
  return fileURLToPath(new URL('../../../../deploy/monitoring/alerts.rules.yaml', import.meta.url));
}

/** Prometheus's configuration for a plan, its rules in `rulesFile`. */
export function prometheusConfig(plan: Pick<LabPlan, 'nodes'>, rulesFile: string): string {
  const lines = [
    '# bgp-announce lab: every node daemon, scraped on the fabric',
    'global:',
    `  scrape_interval: ${LAB_SCRAPE_INTERVAL}`,
    `  scrape_timeout: ${LAB_SCRAPE_INTERVAL}`,
    `  evaluation_interval: ${LAB_EVALUATION_INTERVAL}`,
    'rule_files:',
    `  - ${JSON.stringify(rulesFile)}`,
    'scrape_configs:',
    `  - job_name: ${SCRAPE_JOB}`,
    '    static_configs:',
  ];
  for (const node of plan.nodes)
    lines.push(
      `      - targets: [${JSON.stringify(metricsAddress(node))}]`,
      '        labels:',
      `          node: ${JSON.stringify(node.name)}`,
    );
  return `${lines.join('\n')}\n`;
}

/** The lab's rules and how many `for:` were shortened (and from what). */
export interface LabRules {
  text: string;
  shortened: { line: number; from: string }[];
}

// A rule's `for:` key: on its own line, or on the line that starts the rule (`- for: 2m`); its value a
// Prometheus duration, optionally quoted, optionally followed by a comment.
const FOR_LINE = /^(\s*(?:-\s+)?)for:(\s*)(["']?)(\d+(?:ms|[smhdwy])(?:\d+(?:ms|[smhdwy]))*)\3(\s*(?:#.*)?)$/;

/**
 * The lab's rule file: the shipped text with every rule's `for:` set to `forDuration`; all else as it
 * is (same groups, expressions, labels and annotations). Lines inside block scalars (`|`, `>`) are
 * left alone.
 */
export function labRules(shipped: string, forDuration = LAB_ALERT_FOR): LabRules {
  const shortened: LabRules['shortened'] = [];
  let blockIndent: number | undefined;
  const lines = shipped.split('\n').map((line, i) => {
    const indent = line.length - line.trimStart().length;
    if (blockIndent !== undefined) {
      if (line.trim() === '' || indent > blockIndent) return line;
      blockIndent = undefined;
    }
    if (/:\s*[|>][-+0-9]*\s*(#.*)?$/.test(line)) blockIndent = indent;
    const m = FOR_LINE.exec(line);
    if (!m) return line;
    shortened.push({ line: i + 1, from: m[4]! });
    return `${m[1]}for:${m[2] || ' '}${forDuration}${m[5]}`;
  });
  return { text: lines.join('\n'), shortened };
}
