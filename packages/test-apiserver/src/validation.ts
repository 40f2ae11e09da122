// Validation the real API server does before storing: names, labels, and the few kind-specific
// rules our controllers can trip over. Problems are collected as causes of a 422 Invalid.
import type { StatusCause } from './status.js';
import type { KubeObject, ResourceType } from './types.js';

const DNS1123_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const DNS1123_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const DNS1035_LABEL = /^[a-z]([-a-z0-9]*[a-z0-9])?$/;
const QUALIFIED_NAME =
  /^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*\/)?[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$/;
const LABEL_VALUE = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/;

/** A 422 cause for a field. */
export function cause(
  field: string,
  reason: 'FieldValueInvalid' | 'FieldValueRequired' | 'FieldValueForbidden' | 'FieldValueNotSupported',
  message: string,
): StatusCause {
  return { reason, field, message };
}

/** A FieldValueInvalid cause with the value quoted, as the real messages read. */
export function invalidValue(field: string, value: unknown, why: string): StatusCause {
  return cause(field, 'FieldValueInvalid', `Invalid value: ${JSON.stringify(value)}: ${why}`);
}

function nameProblem(rt: ResourceType, name: string): string | undefined {
  if (rt.plural === 'services' && rt.group === '') {
    if (name.length > 63 || !DNS1035_LABEL.test(name)) {
      return "a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic character, and end with an alphanumeric character";
    }
  } else if (rt.plural === 'namespaces' && rt.group === '') {
    if (name.length > 63 || !DNS1123_LABEL.test(name)) {
      return "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character";
    }
  } else if (name.length > 253 || !DNS1123_SUBDOMAIN.test(name)) {
    return "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character";
  }
  return undefined;
}

/** Problems with metadata: name format, label keys and values, annotation keys, finalizer names. */
export function validateMeta(rt: ResourceType, obj: KubeObject): StatusCause[] {
  const out: StatusCause[] = [];
  const m = obj.metadata;
  if (!m.name)
    out.push(cause('metadata.name', 'FieldValueRequired', 'Required value: name or generateName is required'));
  else {
    const problem = nameProblem(rt, m.name);
    if (problem) out.push(invalidValue('metadata.name', m.name, problem));
  }
  for (const [k, v] of Object.entries(m.labels ?? {})) {
    if (k.length > 317 || !QUALIFIED_NAME.test(k))
      out.push(
        invalidValue('metadata.labels', k, "name part must consist of alphanumeric characters, '-', '_' or '.'"),
      );
    if (typeof v !== 'string' || v.length > 63 || !LABEL_VALUE.test(v))
      out.push(
        invalidValue(
          'metadata.labels',
          v,
          "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.'",
        ),
      );
  }
  for (const [k, v] of Object.entries(m.annotations ?? {})) {
    if (k.length > 317 || !QUALIFIED_NAME.test(k))
      out.push(
        invalidValue('metadata.annotations', k, "name part must consist of alphanumeric characters, '-', '_' or '.'"),
      );
    if (typeof v !== 'string') out.push(invalidValue(`metadata.annotations[${k}]`, v, 'must be a string'));
  }
  for (const [i, f] of (m.finalizers ?? []).entries()) {
    if (typeof f !== 'string' || !QUALIFIED_NAME.test(f))
      out.push(invalidValue(`metadata.finalizers[${i}]`, f, 'a finalizer must be a qualified name'));
  }
  return out;
}

/** Kind-specific problems (EndpointSlice.addressType; Lease spec numbers). Services are checked in services.ts. */
export function validateKind(rt: ResourceType, obj: KubeObject): StatusCause[] {
  const out: StatusCause[] = [];
  if (rt.group === 'discovery.k8s.io' && rt.plural === 'endpointslices') {
    const t = obj.addressType;
    if (t === undefined) out.push(cause('addressType', 'FieldValueRequired', 'Required value'));
    else if (t !== 'IPv4' && t !== 'IPv6' && t !== 'FQDN')
      out.push(
        cause(
          'addressType',
          'FieldValueNotSupported',
          `Unsupported value: ${JSON.stringify(t)}: supported values: "FQDN", "IPv4", "IPv6"`,
        ),
      );
    const endpoints = obj.endpoints;
    if (endpoints !== undefined && endpoints !== null && !Array.isArray(endpoints))
      out.push(invalidValue('endpoints', endpoints, 'must be a list'));
    for (const [i, e] of (Array.isArray(endpoints) ? endpoints : []).entries()) {
      const addresses = (e as { addresses?: unknown }).addresses;
      if (!Array.isArray(addresses) || addresses.length === 0)
        out.push(
          cause(`endpoints[${i}].addresses`, 'FieldValueRequired', 'Required value: must contain at least 1 address'),
        );
    }
  }
  if (rt.group === 'coordination.k8s.io' && rt.plural === 'leases') {
    const spec = (obj.spec ?? {}) as Record<string, unknown>;
    const d = spec.leaseDurationSeconds;
    if (d !== undefined && (!Number.isInteger(d) || (d as number) <= 0))
      out.push(invalidValue('spec.leaseDurationSeconds', d, 'must be greater than 0'));
    const tr = spec.leaseTransitions;
    if (tr !== undefined && (!Number.isInteger(tr) || (tr as number) < 0))
      out.push(invalidValue('spec.leaseTransitions', tr, 'must be greater than or equal to 0'));
  }
  return out;
}
