// Ages as the real server prints them in Table cells ("45s", "5m3s", "3h", "12d"): apimachinery's
// duration.HumanDuration, about two significant figures, computed on the server at request time.

const SECOND = 1000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;

/** Go integer division of a duration in ms by a unit (truncates toward zero). */
function units(ms: number, unit: number): number {
  return Math.trunc(ms / unit);
}

/** A short human-readable duration: "0s" for up to 2 s in the future (clock skew), "<invalid>" beyond. */
export function humanDuration(ms: number): string {
  const seconds = units(ms, SECOND);
  if (seconds < -1) return '<invalid>';
  if (seconds < 0) return '0s';
  if (seconds < 60 * 2) return `${seconds}s`;
  const minutes = units(ms, MINUTE);
  if (minutes < 10) {
    const s = seconds % 60;
    return s === 0 ? `${minutes}m` : `${minutes}m${s}s`;
  }
  if (minutes < 60 * 3) return `${minutes}m`;
  const hours = units(ms, HOUR);
  if (hours < 8) {
    const m = minutes % 60;
    return m === 0 ? `${hours}h` : `${hours}h${m}m`;
  }
  if (hours < 48) return `${hours}h`;
  if (hours < 24 * 8) {
    const h = hours % 24;
    return h === 0 ? `${Math.trunc(hours / 24)}d` : `${Math.trunc(hours / 24)}d${h}h`;
  }
  if (hours < 24 * 365 * 2) return `${Math.trunc(hours / 24)}d`;
  const years = Math.trunc(hours / 24 / 365);
  if (hours < 24 * 365 * 8) {
    const days = Math.trunc(hours / 24) % 365;
    return days === 0 ? `${years}y` : `${years}y${days}d`;
  }
  return `${years}y`;
}

const RFC3339 = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)$/i;

/**
 * A metav1.Time string as an age at `now`: "<unknown>" when unset (empty or "null"), "<invalid>"
 * when it does not parse as RFC 3339 (what the real server puts in a CRD's date column).
 */
export function ageOf(timestamp: unknown, now: Date): string {
  if (timestamp === undefined || timestamp === null || timestamp === '' || timestamp === 'null') return '<unknown>';
  if (typeof timestamp !== 'string' || !RFC3339.test(timestamp)) return '<invalid>';
  const t = Date.parse(timestamp);
  if (Number.isNaN(t)) return '<invalid>';
  return humanDuration(now.getTime() - t);
}
