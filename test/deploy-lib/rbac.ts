// Kubernetes RBAC authorization of resource requests, as the API server's RBAC authorizer decides
// it, for checking deploy/rbac.yaml against the requests the code makes: a ClusterRole (bound with a
// ClusterRoleBinding) allows in every namespace and for cluster-scoped resources, a Role only in its
// own namespace. A rule allows when its apiGroups, resources ("plural" or "plural/subresource") and
// verbs match (or hold "*") and, if it lists resourceNames, the request names one of them (so never
// for create, list or watch without a name).

/** rbac.authorization.k8s.io/v1 PolicyRule (resource rules; nonResourceURLs are not used here). */
export interface PolicyRule {
  apiGroups?: string[];
  resources?: string[];
  verbs: string[];
  resourceNames?: string[];
  nonResourceURLs?: string[];
}

/** A role that applies: a ClusterRole everywhere, a Role in `namespace` only. */
export interface Grant {
  /** "ClusterRole bgp-announce", "Role bgp-announce/bgp-announce": for messages. */
  role: string;
  /** Set for a Role: the only namespace it applies in. */
  namespace?: string;
  rules: PolicyRule[];
}

/** One API request as RBAC sees it. */
export interface ApiCall {
  verb: string;
  group: string;
  resource: string;
  subresource?: string;
  namespace?: string;
  name?: string;
}

/** "get services", "update services/status in demo", "list bgppeers.bgp-announce.io in bgp-announce" */
export function describeCall(c: ApiCall): string {
  const resource = `${c.resource}${c.group === '' ? '' : `.${c.group}`}${c.subresource ? `/${c.subresource}` : ''}`;
  return `${c.verb} ${resource}${c.name ? ` ${c.name}` : ''}${c.namespace ? ` in ${c.namespace}` : ''}`;
}

const matches = (list: readonly string[] | undefined, value: string): boolean =>
  (list ?? []).includes('*') || (list ?? []).includes(value);

/** Whether one rule allows the call (the namespace is the grant's business). */
export function ruleAllows(rule: PolicyRule, call: ApiCall): boolean {
  const resource = call.subresource ? `${call.resource}/${call.subresource}` : call.resource;
  if (!matches(rule.apiGroups, call.group)) return false;
  if (!matches(rule.resources, resource) && !(call.subresource && matches(rule.resources, `*/${call.subresource}`)))
    return false;
  if (!matches(rule.verbs, call.verb)) return false;
  const names = rule.resourceNames ?? [];
  return names.length === 0 || (call.name !== undefined && names.includes(call.name));
}

/** The grants (and rule indexes) that allow a call; empty when it would be Forbidden. */
export function allowedBy(grants: readonly Grant[], call: ApiCall): string[] {
  const out: string[] = [];
  for (const grant of grants) {
    if (grant.namespace !== undefined && call.namespace !== grant.namespace) continue;
    grant.rules.forEach((rule, i) => {
      if (ruleAllows(rule, call)) out.push(`${grant.role} rule ${i + 1}`);
    });
  }
  return out;
}

/** One verb on one resource that a rule grants: the unit the "fewest verbs" check counts. */
export interface Permission {
  role: string;
  rule: number;
  group: string;
  resource: string;
  verb: string;
  resourceNames: string[];
  namespace?: string;
}

/** "update leases.coordination.k8s.io (bgp-announce-allocator) [Role bgp-announce/bgp-announce rule 5]" */
export function describePermission(p: Permission): string {
  return `${p.verb} ${p.resource}${p.group === '' ? '' : ` (group ${p.group})`}${p.resourceNames.length ? ` named ${p.resourceNames.join(', ')}` : ''} [${p.role} rule ${p.rule}]`;
}

/** Every permission the grants give, one per group x resource x verb of each rule. */
export function permissionsOf(grants: readonly Grant[]): Permission[] {
  const out: Permission[] = [];
  for (const grant of grants) {
    grant.rules.forEach((rule, i) => {
      for (const group of rule.apiGroups ?? []) {
        for (const resource of rule.resources ?? []) {
          for (const verb of rule.verbs) {
            const p: Permission = {
              role: grant.role,
              rule: i + 1,
              group,
              resource,
              verb,
              resourceNames: rule.resourceNames ?? [],
            };
            if (grant.namespace !== undefined) p.namespace = grant.namespace;
            out.push(p);
          }
        }
      }
    });
  }
  return out;
}

/** Whether some call needed this permission (matched it, namespace and names included). */
export function permissionUsed(p: Permission, calls: readonly ApiCall[]): boolean {
  const rule: PolicyRule = {
    apiGroups: [p.group],
    resources: [p.resource],
    verbs: [p.verb],
    resourceNames: p.resourceNames,
  };
  return calls.some((c) => (p.namespace === undefined || c.namespace === p.namespace) && ruleAllows(rule, c));
}
