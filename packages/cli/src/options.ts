// Option parsing shared by the subcommands: the usage error (exit status 2) and parsers of option text
// (whole numbers, AS numbers, addresses) whose errors name the option. Pure: text in, a value out or a
// UsageError. Each command's own options are parsed in its module (peer.ts, bfd.ts, daemon.ts, ...).
import { formatIpv4, formatIpv6, parseIp } from '@bgp-announce/bgp-wire';

/** A mistake in the command line (or in input text such as --hex): exit status 2. */
export class UsageError extends Error {
  override name = 'UsageError';
}

/** Appends one value of a repeatable option (commander's argParser). */
export function collect(value: string, previous: string[] | undefined): string[] {
  return [...(previous ?? []), value];
}

/** A whole number within [min, max] from decimal text. Throws UsageError naming the option. */
export function parseInteger(
  text: string,
  option: string,
  min: number,
  max: number,
  what = `a whole number ${min}-${max}`,
): number {
  const n = /^\d{1,10}$/.test(text) ? Number(text) : NaN;
  if (!(n >= min && n <= max)) throw new UsageError(`${option} must be ${what}, got ${JSON.stringify(text)}`);
  return n;
}

/** An AS number: asplain 1-4294967295, or asdot "1.10" (1 * 65536 + 10, RFC 5396). */
export function parseAs(text: string, option: string): number {
  const dot = /^(\d{1,5})\.(\d{1,5})$/.exec(text);
  const n = dot
    ? Number(dot[1]) <= 0xffff && Number(dot[2]) <= 0xffff
      ? Number(dot[1]) * 65536 + Number(dot[2])
      : NaN
    : /^\d{1,10}$/.test(text)
      ? Number(text)
      : NaN;
  if (!(n >= 1 && n <= 0xffffffff))
    throw new UsageError(
      `${option} must be an AS number 1-4294967295 (or asdot such as 1.10), got ${JSON.stringify(text)}`,
    );
  return n;
}

/** An IPv4 or IPv6 address in canonical text (RFC 5952 for IPv6). */
export function parseAddress(text: string, option: string): string {
  const bytes = parseIp(text);
  if (bytes === undefined)
    throw new UsageError(`${option} must be an IPv4 or IPv6 address, got ${JSON.stringify(text)}`);
  return bytes.length === 4 ? formatIpv4(bytes, 0) : formatIpv6(bytes, 0);
}

/** Why a file given on the command line could not be read, in a few words ("no such file", ...). */
export function fileErrorReason(err: unknown): string {
  const code = (err as NodeJS.ErrnoException).code;
  if (code === 'ENOENT') return 'no such file';
  if (code === 'EISDIR') return 'is a directory';
  if (code === 'EACCES') return 'permission denied';
  return (err as Error).message;
}
