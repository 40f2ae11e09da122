// `bgp-announce import metallb`: MetalLB's configuration (YAML or JSON documents from a file or stdin,
// or its objects in a cluster with --from-cluster) converted to ours: our objects as YAML on stdout or
// one file each in --output-dir, the report on stderr. The conversion is @bgp-announce/announcer's
// importMetalLB; this module reads, writes and picks the exit status.
// Exit status: 0 everything carried over, 1 something needs the user, 2 bad input or usage error.
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import {
  DEFAULT_METALLB_NAMESPACE,
  DEFAULT_TARGET_NAMESPACE,
  MetalLBClusterError,
  formatImportReport,
  importMetalLB,
  objectFileName,
  objectsYaml,
  readConfigDocuments,
  readMetalLBFromCluster,
  type MetalLBDocument,
} from '@bgp-announce/announcer';
import { UsageError, fileErrorReason } from './options.js';
import { clusterSource } from './status-cluster.js';

const BAD_INPUT = 2;

/** The options as commander hands them over. */
export interface ImportMetalLBOptions {
  fromCluster?: boolean;
  kubeconfig?: string;
  kubeUrl?: string;
  kubeContext?: string;
  /** MetalLB's namespace: where --from-cluster reads, and where its passwordSecrets are. */
  metallbNamespace?: string;
  /** Our namespace, written into each object's metadata. */
  namespace?: string;
  outputDir?: string;
}

/** Where output goes; stdin and the environment, replaceable in tests. */
export interface ImportIo {
  out(text: string): void;
  err(line: string): void;
  env?: Record<string, string | undefined>;
  /** The whole of stdin; undefined when stdin is a terminal (nothing piped). */
  stdin?: () => Promise<string | undefined>;
}

async function processStdin(): Promise<string | undefined> {
  if (process.stdin.isTTY) return undefined;
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

const NAMESPACE_RE = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;

function checkOptions(file: string | undefined, o: ImportMetalLBOptions): void {
  if (o.fromCluster && file !== undefined) throw new UsageError('give a FILE or --from-cluster, not both');
  if (!o.fromCluster) {
    for (const [flag, value] of [
      ['--kubeconfig', o.kubeconfig],
      ['--kube-url', o.kubeUrl],
      ['--kube-context', o.kubeContext],
    ] as const)
      if (value !== undefined) throw new UsageError(`${flag} is only used with --from-cluster`);
  }
  for (const [flag, value] of [
    ['--namespace', o.namespace],
    ['--metallb-namespace', o.metallbNamespace],
  ] as const) {
    if (value !== undefined && !NAMESPACE_RE.test(value))
      throw new UsageError(
        `${flag} must be a namespace name (lower-case letters, digits and '-'), got ${JSON.stringify(value)}`,
      );
  }
  if (o.outputDir !== undefined && o.outputDir.trim() === '') throw new UsageError('--output-dir must not be empty');
}

/** The input documents: the file's (or stdin's), or the cluster's. Throws UsageError or MetalLBClusterError. */
async function readDocuments(
  file: string | undefined,
  o: ImportMetalLBOptions,
  io: ImportIo,
): Promise<{ documents: MetalLBDocument[]; problems: string[]; notes: string[] }> {
  if (o.fromCluster) {
    const env = io.env ?? process.env;
    const { kube } = clusterSource({ kubeconfig: o.kubeconfig, kubeUrl: o.kubeUrl, kubeContext: o.kubeContext }, env);
    const { documents, missing } = await readMetalLBFromCluster(kube.kubeConfig, {
      namespace: o.metallbNamespace ?? DEFAULT_METALLB_NAMESPACE,
    });
    const notes = missing.map((m) => `the cluster does not serve ${m}: none read`);
    if (!documents.some((d) => (d.object as { kind?: unknown } | null)?.kind !== 'Service'))
      notes.push(
        `no MetalLB object in namespace ${o.metallbNamespace ?? DEFAULT_METALLB_NAMESPACE} (another one? --metallb-namespace)`,
      );
    return { documents, problems: [], notes };
  }
  let text: string;
  let source: string;
  if (file === undefined || file === '-') {
    const piped = await (io.stdin ?? processStdin)();
    if (piped === undefined)
      throw new UsageError("no input: give a FILE, pipe MetalLB's objects on stdin, or use --from-cluster");
    text = piped;
    source = 'stdin';
  } else {
    try {
      text = await readFile(file, 'utf8');
    } catch (err) {
      throw new UsageError(`cannot read ${file}: ${fileErrorReason(err)}`);
    }
    source = file;
  }
  const read = readConfigDocuments(text, source);
  return {
    documents: read.objects.map((object, i) => ({ object, origin: read.origins[i]! })),
    problems: read.problems.map((p) => `${p.name}: ${p.field}: ${p.message}`),
    notes: [],
  };
}

/** Runs the command; resolves with the exit status. */
export async function importMetalLBCommand(
  file: string | undefined,
  o: ImportMetalLBOptions,
  io: ImportIo,
): Promise<number> {
  const fail = (message: string): number => {
    io.err(`bgp-announce import metallb: ${message}`);
    return BAD_INPUT;
  };
  let input: Awaited<ReturnType<typeof readDocuments>>;
  try {
    checkOptions(file, o);
    input = await readDocuments(file, o, io);
  } catch (err) {
    if (err instanceof UsageError || err instanceof MetalLBClusterError) return fail(err.message);
    throw err;
  }
  if (input.problems.length > 0) {
    io.err('bad input, nothing written:');
    for (const p of input.problems) io.err(`  ${p}`);
    return BAD_INPUT;
  }
  for (const note of input.notes) io.err(note);
  const result = importMetalLB(input.documents, {
    namespace: o.namespace ?? DEFAULT_TARGET_NAMESPACE,
    metallbNamespace: o.metallbNamespace ?? DEFAULT_METALLB_NAMESPACE,
  });
  if (result.status !== BAD_INPUT && result.objects.length > 0) {
    if (o.outputDir === undefined) {
      io.out(
        `# bgp-announce.io objects converted from MetalLB's by bgp-announce import metallb\n${objectsYaml(result.objects)}`,
      );
    } else {
      try {
        await mkdir(o.outputDir, { recursive: true });
        for (const object of result.objects)
          await writeFile(join(o.outputDir, objectFileName(object)), objectsYaml([object]));
      } catch (err) {
        return fail(`cannot write to ${o.outputDir}: ${fileErrorReason(err)}`);
      }
      io.err(`wrote ${result.objects.length} file${result.objects.length === 1 ? '' : 's'} to ${o.outputDir}`);
    }
  }
  for (const line of formatImportReport(result)) io.err(line);
  return result.status;
}
