// Metric names in PromQL expressions and in Prometheus's text exposition, for the dashboard test: the
// names a query selects (what is left once strings, label matchers, ranges, grouping clauses,
// function calls, keywords and numbers are taken out), and the names a scrape exports (from its
// "# TYPE" lines, with a histogram's _bucket/_sum/_count and a summary's _sum/_count).

const KEYWORDS = new Set([
  'by',
  'without',
  'on',
  'ignoring',
  'group_left',
  'group_right',
  'and',
  'or',
  'unless',
  'bool',
  'offset',
  'inf',
  'nan',
]);

/** The metric names an expression selects. */
export function selectedMetrics(expr: string): string[] {
  const stripped = expr
    .replace(/"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'/g, ' ')
    .replace(/\{[^}]*\}/g, ' ')
    .replace(/\[[^\]]*\]/g, ' ')
    .replace(/\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, ' ');
  const names = new Set<string>();
  for (const m of stripped.matchAll(/([A-Za-z_:][A-Za-z0-9_:]*)(\s*\()?/g)) {
    const [, word, call] = m;
    if (call !== undefined || KEYWORDS.has(word!.toLowerCase())) continue;
    if (/^[0-9]/.test(word!)) continue;
    names.add(word!);
  }
  return [...names].sort();
}

/** Every series name a text exposition can hold, from its TYPE lines. */
export function exportedMetrics(text: string): Set<string> {
  const names = new Set<string>();
  for (const m of text.matchAll(/^# TYPE (\S+) (\S+)$/gm)) {
    const [, name, type] = m;
    names.add(name!);
    if (type === 'histogram') for (const s of ['_bucket', '_sum', '_count']) names.add(name! + s);
    if (type === 'summary') for (const s of ['_sum', '_count']) names.add(name! + s);
  }
  return names;
}

/** Grafana's variables as PromQL would need them: ranges as 5m, the node selection as a regex that matches all. */
export function withoutGrafanaVariables(expr: string): string {
  return expr.replace(/\$__rate_interval|\$__interval|\$__range/g, '5m').replace(/\$\{?node\}?/g, '.*');
}
