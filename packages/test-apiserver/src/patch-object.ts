// PATCH: the three patch types the real server takes without server-side apply, applied to the
// stored object and then written with the update rules.
import {
  commitUpdate,
  decodeBody,
  getObject,
  type ApiContext,
  type UpdateMode,
  type WriteOptions,
} from './operations.js';
import { jsonPatch, mergePatch, PatchApplyError, PatchFormatError, type Json } from './patch.js';
import { ApiError, badRequest, unsupportedMediaType } from './status.js';
import { strategicMergePatch } from './strategic.js';
import type { KubeObject, ResourceType } from './types.js';

/** Patch content types. */
export const JSON_PATCH = 'application/json-patch+json';
export const MERGE_PATCH = 'application/merge-patch+json';
export const STRATEGIC_MERGE_PATCH = 'application/strategic-merge-patch+json';
const APPLY_PATCH = 'application/apply-patch+yaml';

function acceptedTypes(rt: ResourceType): string[] {
  return rt.custom
    ? [JSON_PATCH, MERGE_PATCH, APPLY_PATCH]
    : [JSON_PATCH, MERGE_PATCH, APPLY_PATCH, STRATEGIC_MERGE_PATCH];
}

/** Applies a patch document of the given content type to a copy of an object. */
export function applyPatch(rt: ResourceType, old: KubeObject, contentType: string, body: unknown): unknown {
  const type = contentType.split(';')[0]?.trim().toLowerCase() ?? '';
  try {
    switch (type) {
      case MERGE_PATCH:
        return mergePatch(old as unknown as Json, body as Json);
      case JSON_PATCH:
        return jsonPatch(old as unknown as Json, body);
      case STRATEGIC_MERGE_PATCH:
        if (rt.custom) throw unsupportedMediaType(contentType, acceptedTypes(rt));
        return strategicMergePatch(rt.kind, old as unknown as Json, body as Json);
      case APPLY_PATCH:
        throw new ApiError(
          415,
          'UnsupportedMediaType',
          'server-side apply is not implemented by the test API server; use a merge or JSON patch',
        );
      default:
        throw unsupportedMediaType(contentType, acceptedTypes(rt));
    }
  } catch (err) {
    if (err instanceof PatchFormatError) throw badRequest(err.message);
    if (err instanceof PatchApplyError) throw new ApiError(422, 'Invalid', err.message);
    throw err;
  }
}

/** PATCH an object (mode 'status' for the /status subresource). */
export function patchObject(
  ctx: ApiContext,
  rt: ResourceType,
  namespace: string | undefined,
  name: string,
  contentType: string,
  body: unknown,
  mode: UpdateMode,
  opts: WriteOptions = {},
): KubeObject {
  const old = getObject(ctx, rt, namespace, name);
  const patched = decodeBody(rt, applyPatch(rt, old, contentType, body));
  if (patched.metadata.name !== name)
    throw badRequest(`metadata.name: Invalid value: ${JSON.stringify(patched.metadata.name)}: field is immutable`);
  if (rt.namespaced && patched.metadata.namespace !== old.metadata.namespace) {
    throw badRequest(
      `metadata.namespace: Invalid value: ${JSON.stringify(patched.metadata.namespace)}: field is immutable`,
    );
  }
  return commitUpdate(ctx, rt, old, patched, mode, { ...opts, requireResourceVersion: false });
}
