// Kubernetes label selector matching (metav1.LabelSelector semantics): every matchLabels pair and
// every matchExpression must hold; an empty selector matches everything.
import type { LabelSelector } from './types.js';

/** True when `labels` satisfy `selector`. */
export function matchesSelector(
  selector: LabelSelector,
  labels: Readonly<Record<string, string>> | undefined,
): boolean {
  const l = labels ?? {};
  for (const [k, v] of Object.entries(selector.matchLabels ?? {})) if (l[k] !== v) return false;
  for (const e of selector.matchExpressions ?? []) {
    const has = Object.hasOwn(l, e.key);
    const values = e.values ?? [];
    switch (e.operator) {
      case 'In':
        if (!has || !values.includes(l[e.key]!)) return false;
        break;
      case 'NotIn':
        if (has && values.includes(l[e.key]!)) return false;
        break;
      case 'Exists':
        if (!has) return false;
        break;
      case 'DoesNotExist':
        if (has) return false;
        break;
    }
  }
  return true;
}

/** True when the list is empty (no restriction) or any selector matches. */
export function matchesAny(
  selectors: readonly LabelSelector[],
  labels: Readonly<Record<string, string>> | undefined,
): boolean {
  return selectors.length === 0 || selectors.some((s) => matchesSelector(s, labels));
}
