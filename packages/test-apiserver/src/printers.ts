// Server-side printing: which columns a resource's Table has and what goes in each cell. Services
// (printer-service.ts), Namespaces, Nodes, Secrets, ConfigMaps, Leases and EndpointSlices
// (printer-builtin.ts) have kube-apiserver's printers; custom resources get the CRD's
// additionalPrinterColumns (NAME first; NAME and AGE when the CRD defines none); everything else
// (here: Pods and Events, whose real printers are not implemented) the generic registry's default
// convertor: NAME and "Created At" (an RFC 3339 timestamp).
import { ageOf } from './duration.js';
import { compileJsonPath, findResults, JsonPathError, type JsonPath } from './jsonpath.js';
import {
  configMapPrinter,
  endpointSlicePrinter,
  leasePrinter,
  namespacePrinter,
  nodePrinter,
  secretPrinter,
} from './printer-builtin.js';
import { column, CREATION_TIMESTAMP_DESCRIPTION, NAME_COLUMN, type TableConvertor } from './printer-common.js';
import { servicePrinter } from './printer-service.js';
import type { PrinterColumn, ResourceType } from './types.js';

/** A metav1.Time as Go's time.RFC3339 in UTC ("2025-01-01T00:00:00Z"), "0001-01-01T00:00:00Z" when unset. */
function rfc3339(timestamp: unknown): string {
  const t = typeof timestamp === 'string' ? Date.parse(timestamp) : Number.NaN;
  if (Number.isNaN(t)) return '0001-01-01T00:00:00Z';
  return new Date(t).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/** rest.NewDefaultTableConvertor: NAME and "Created At", for resources without a printer. */
export const DEFAULT_CONVERTOR: TableConvertor = {
  columns: [NAME_COLUMN, column('Created At', 'date', CREATION_TIMESTAMP_DESCRIPTION)],
  cells: (obj) => [obj.metadata.name ?? '', rfc3339(obj.metadata.creationTimestamp)],
  nullRowsWhenEmpty: true,
};

/** A CRD that defines no columns is served with this one (serveDefaultColumnsIfEmpty). */
const DEFAULT_CRD_COLUMNS: readonly PrinterColumn[] = [
  { name: 'Age', type: 'date', jsonPath: '.metadata.creationTimestamp', description: CREATION_TIMESTAMP_DESCRIPTION },
];

const COLUMN_TYPES = new Set(['string', 'integer', 'number', 'boolean', 'date']);

/** Checks printer columns as CRD validation would (and that our JSONPath subset covers them); throws. */
export function validatePrinterColumns(kind: string, columns: readonly PrinterColumn[]): void {
  for (const [i, c] of columns.entries()) {
    const where = `${kind} additionalPrinterColumns[${i}]`;
    if (!c.name) throw new Error(`${where}.name: Required value`);
    if (!COLUMN_TYPES.has(c.type)) throw new Error(`${where}.type: Unsupported value: ${JSON.stringify(c.type)}`);
    if (c.priority !== undefined && !(Number.isInteger(c.priority) && c.priority >= 0))
      throw new Error(`${where}.priority: must be a non-negative integer`);
    try {
      compileJsonPath(c.jsonPath);
    } catch (err) {
      throw new Error(`${where}.jsonPath: ${(err as Error).message}`);
    }
  }
}

/** Go's json.Marshal: map keys sorted, <, > and & escaped (how a string column shows a list or map). */
function goJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(goJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const o = value as Record<string, unknown>;
    const keys = Object.keys(o).sort();
    return `{${keys.map((k) => `${goJson(k)}:${goJson(o[k])}`).join(',')}}`;
  }
  return (JSON.stringify(value) ?? 'null').replace(
    /[<>&\u2028\u2029]/g,
    (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`,
  );
}

/** A string column's cell: jsonpath's PrintResults of the first value. */
function stringCell(value: unknown): string {
  if (value === null || value === undefined) return '<no value>';
  if (typeof value === 'object') return goJson(value);
  return String(value);
}

/** cellForJSONValue: the cell of a typed column, null when the value does not fit the type. */
function typedCell(type: PrinterColumn['type'], value: unknown, now: Date): unknown {
  if (value === null || value === undefined) return null;
  switch (type) {
    case 'integer':
      return typeof value === 'number' ? Math.trunc(value) : null;
    case 'number':
      return typeof value === 'number' ? value : null;
    case 'boolean':
      return typeof value === 'boolean' ? value : null;
    case 'date':
      return typeof value === 'string' ? ageOf(value, now) : null;
    default:
      return typeof value === 'string' ? value : null;
  }
}

/** The CRD table convertor (apiextensions-apiserver tableconvertor) for a custom resource. */
export function customResourceConvertor(printerColumns: readonly PrinterColumn[] | undefined): TableConvertor {
  const defs = printerColumns && printerColumns.length > 0 ? printerColumns : DEFAULT_CRD_COLUMNS;
  const compiled: { def: PrinterColumn; path: JsonPath }[] = defs.map((def) => ({
    def,
    path: compileJsonPath(def.jsonPath),
  }));
  const columns = [
    NAME_COLUMN,
    ...defs.map((d) =>
      column(d.name, d.type, d.description || `Custom resource definition column (in JSONPath format): ${d.jsonPath}`, {
        format: d.format ?? '',
        priority: d.priority ?? 0,
      }),
    ),
  ];
  return {
    columns,
    cells: (obj, now) => [
      obj.metadata.name ?? '',
      ...compiled.map(({ def, path }) => {
        let results: unknown[];
        try {
          results = findResults(path, obj);
        } catch (err) {
          if (err instanceof JsonPathError) return null;
          throw err;
        }
        if (results.length === 0) return null;
        // Only the first value counts, as on the real server ("we only support simple JSON path").
        return def.type === 'string' ? stringCell(results[0]) : typedCell(def.type, results[0], now);
      }),
    ],
  };
}

/** The built-in kinds with a printer, by "group/plural" ("" for the core group). */
const PRINTERS: Record<string, TableConvertor> = {
  '/services': servicePrinter,
  '/namespaces': namespacePrinter,
  '/nodes': nodePrinter,
  '/secrets': secretPrinter,
  '/configmaps': configMapPrinter,
  'coordination.k8s.io/leases': leasePrinter,
  'discovery.k8s.io/endpointslices': endpointSlicePrinter,
};

const convertors = new WeakMap<ResourceType, TableConvertor>();

/** The convertor serving a resource's Tables. */
export function convertorFor(rt: ResourceType): TableConvertor {
  let c = convertors.get(rt);
  if (!c) {
    c = rt.custom
      ? customResourceConvertor(rt.printerColumns)
      : (PRINTERS[`${rt.group}/${rt.plural}`] ?? DEFAULT_CONVERTOR);
    convertors.set(rt, c);
  }
  return c;
}
