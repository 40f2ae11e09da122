// What every table convertor shares: the column definition's wire form, the convertor interface, the
// NAME column and the ObjectMeta descriptions the real columns carry.
import type { KubeObject } from './types.js';

/** metav1.TableColumnDefinition: every field is always sent (no omitempty). */
export interface TableColumnDefinition {
  name: string;
  type: string;
  format: string;
  description: string;
  priority: number;
}

/** How one resource becomes Table rows (a rest.TableConvertor). */
export interface TableConvertor {
  readonly columns: readonly TableColumnDefinition[];
  /** The cells of one object's row, ages computed at `now`. */
  cells(obj: KubeObject, now: Date): unknown[];
  /** An empty list has `rows: null` rather than `[]` (the default convertor only appends rows). */
  readonly nullRowsWhenEmpty?: boolean;
}

/** metav1.ObjectMeta's OpenAPI descriptions, which the real columns carry. */
export const NAME_DESCRIPTION =
  'Name must be unique within a namespace. Is required when creating resources, although some resources may allow a client to request the generation of an appropriate name automatically. Name is primarily intended for creation idempotence and configuration definition. Cannot be updated. More info: https://kubernetes.io/docs/concepts/overview/working-with-objects/names#names';
export const CREATION_TIMESTAMP_DESCRIPTION =
  'CreationTimestamp is a timestamp representing the server time when this object was created. It is not guaranteed to be set in happens-before order across separate operations. Clients may not set this value. It is represented in RFC3339 form and is in UTC.\n\nPopulated by the system. Read-only. Null for lists. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#metadata';

/** A column definition with the defaults the wire form always carries. */
export function column(
  name: string,
  type: string,
  description: string,
  extra: { format?: string; priority?: number } = {},
): TableColumnDefinition {
  return { name, type, format: extra.format ?? '', description, priority: extra.priority ?? 0 };
}

/** The NAME column every convertor starts with. */
export const NAME_COLUMN = column('Name', 'string', NAME_DESCRIPTION, { format: 'name' });
