// Durations as Kubernetes (metav1.Duration, Go's time.ParseDuration) writes them: "90s", "1m30s",
// "500ms", "1.5h", "0". Used for the BGP timers of BGPPeer.

const UNIT_SECONDS: Readonly<Record<string, number>> = {
  ns: 1e-9,
  us: 1e-6,
  µs: 1e-6, // U+00B5 micro sign
  μs: 1e-6, // U+03BC Greek mu
  ms: 1e-3,
  s: 1,
  m: 60,
  h: 3600,
};

const PART_RE = /(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|μs|ms|s|m|h)/y;

/**
 * The duration text in seconds (possibly fractional), or a string saying what is wrong. Accepts one
 * or more number+unit parts (units ns, us, ms, s, m, h) or a bare "0"; rejects signs, spaces and
 * unit-less numbers, so that "90" (seconds? minutes?) is never guessed.
 */
export function parseDuration(text: string): number | string {
  const example = 'a duration such as "90s", "1m30s" or "500ms"';
  if (text === '0') return 0;
  if (text === '') return `must be ${example}, got an empty string`;
  if (text.startsWith('-')) return `must not be negative, got ${JSON.stringify(text)}`;
  if (/^\+?\d+(\.\d+)?$/.test(text))
    return `needs a unit (ns, us, ms, s, m, h): ${example}, got ${JSON.stringify(text)}`;
  let seconds = 0;
  PART_RE.lastIndex = 0;
  while (PART_RE.lastIndex < text.length) {
    const at = PART_RE.lastIndex;
    const m = PART_RE.exec(text);
    if (m === null || m.index !== at) return `must be ${example}, got ${JSON.stringify(text)}`;
    seconds += Number(m[1]) * UNIT_SECONDS[m[2]!]!;
  }
  // Round away float noise ("0.1s" + "0.2s"), keeping nanosecond precision.
  return Math.round(seconds * 1e9) / 1e9;
}

/** Seconds back to the shortest Kubernetes duration text ("90s", "1m30s", "500ms"): for messages and tests. */
export function formatDuration(seconds: number): string {
  if (seconds === 0) return '0s';
  if (!Number.isInteger(seconds)) return `${Math.round(seconds * 1e9) / 1e6}ms`;
  const h = Math.floor(seconds / 3600);
  const m = Math.floor((seconds % 3600) / 60);
  const s = seconds % 60;
  return `${h > 0 ? `${h}h` : ''}${m > 0 ? `${m}m` : ''}${s > 0 ? `${s}s` : ''}`;
}
