#!/usr/bin/env node
// The bgp-announce command. Each subcommand's logic lives in its own module; this file parses the
// command line, does the I/O and sets the exit status (0 good, 1 bad input data, 2 usage error).
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { Command, CommanderError } from 'commander';
import { decode, type DecodeOptions } from './decode.js';

const USAGE_ERROR = 2;
const { version } = createRequire(import.meta.url)('../package.json') as { version: string };

/** Reads FILE ('-' or none: stdin) whole. Throws an Error with a message fit for the user. */
async function readInput(file: string | undefined): Promise<Uint8Array> {
  if (file === undefined || file === '-') {
    if (process.stdin.isTTY) throw new Error('no input: give a FILE or pipe messages on stdin');
    const chunks: Buffer[] = [];
    for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
    return Buffer.concat(chunks);
  }
  try {
    return await readFile(file);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'is a directory' : code === 'EACCES' ? 'permission denied' : (err as Error).message;
    throw new Error(`cannot read ${file}: ${why}`);
  }
}

function write(stream: NodeJS.WriteStream, lines: string[]): void {
  if (lines.length > 0) stream.write(lines.join('\n') + '\n');
}

const program = new Command()
  .name('bgp-announce')
  .description('BGP route announcer for bare-metal Kubernetes')
  .version(version)
  .exitOverride()
  .showHelpAfterError('(run with --help for usage)');

program
  .command('decode')
  .description('decode concatenated BGP messages (raw bytes, or hex with --hex) into one JSON object per line')
  .argument('[file]', "input file; stdin when absent or '-'")
  .option('--hex', 'input is hex text (whitespace, newlines and 0x prefixes ignored)')
  .option('--add-path <families>', 'NLRI of these families carry ADD-PATH path identifiers (ipv4-unicast,ipv6-unicast)')
  .option('--as2', 'AS numbers in AS_PATH and AGGREGATOR are 2 octets')
  .option('--extended-message', 'accept messages up to 65535 bytes (RFC 8654)')
  .action(async (file: string | undefined, opts: DecodeOptions) => {
    let input: Uint8Array;
    try {
      input = await readInput(file);
    } catch (err) {
      process.stderr.write(`bgp-announce decode: ${(err as Error).message}\n`);
      process.exitCode = USAGE_ERROR;
      return;
    }
    const result = decode(input, opts);
    write(process.stdout, result.lines);
    write(process.stderr, result.stderr);
    process.exitCode = result.status;
  });

// A reader that goes away (`| head`) is not an error.
process.stdout.on('error', (err: NodeJS.ErrnoException) => {
  if (err.code === 'EPIPE') process.exit(process.exitCode ?? 0);
  throw err;
});

try {
  await program.parseAsync();
} catch (err) {
  // Commander has already printed its message; --help and --version come here with exit code 0.
  if (err instanceof CommanderError) process.exitCode = err.exitCode === 0 ? 0 : USAGE_ERROR;
  else throw err;
}
