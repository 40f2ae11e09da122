// The examples of our custom resources in the documentation: YAML code blocks of Markdown files that
// hold a document with apiVersion bgp-announce.io/..., so the tests can check them against the CRDs
// and the daemon's validator like the files in deploy/examples.
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { parseYamlText, type YamlDoc } from './yaml.js';

/** One YAML code block of a Markdown file that mentions our API group. */
export interface DocBlock {
  /** "packages/announcer/README.md line 120" */
  origin: string;
  docs: YamlDoc[];
}

/** Markdown files whose examples count: the READMEs at the top, of each package and under deploy/. */
export function markdownFiles(root: URL): string[] {
  const out = ['README.md'];
  for (const p of readdirSync(new URL('packages/', root)))
    if (existsSync(new URL(`packages/${p}/README.md`, root))) out.push(`packages/${p}/README.md`);
  const walk = (dir: string): void => {
    for (const name of readdirSync(new URL(dir, root))) {
      const path = `${dir}${name}`;
      if (statSync(new URL(path, root)).isDirectory()) walk(`${path}/`);
      else if (name.endsWith('.md')) out.push(path);
    }
  };
  walk('deploy/');
  return out.filter((f) => existsSync(new URL(f, root)));
}

/**
 * The ```yaml / ```yml blocks of a Markdown text that mention "apiVersion: bgp-announce.io", parsed
 * (a block that does not parse throws, naming its line: documentation must not show broken YAML).
 */
export function yamlBlocks(markdown: string, file: string): DocBlock[] {
  const blocks: DocBlock[] = [];
  const fence = /^([ \t]*)(`{3,}|~{3,})[ \t]*(ya?ml)\b[^\n]*\n([\s\S]*?)^\1\2[ \t]*$/gm;
  let m: RegExpExecArray | null;
  while ((m = fence.exec(markdown)) !== null) {
    const indent = m[1]!;
    const body = m[4]!
      .split('\n')
      .map((l) => (l.startsWith(indent) ? l.slice(indent.length) : l))
      .join('\n');
    if (!/^apiVersion:\s*bgp-announce\.io\//m.test(body)) continue;
    const origin = `${file} line ${markdown.slice(0, m.index).split('\n').length + 1}`;
    blocks.push({ origin, docs: parseYamlText(body, origin) });
  }
  return blocks;
}

/** Every such block of every file markdownFiles() lists. */
export function documentationExamples(root: URL): DocBlock[] {
  return markdownFiles(root).flatMap((f) => yamlBlocks(readFileSync(new URL(f, root), 'utf8'), f));
}
