// The `policies` part of /config_dump: the compiled rules the sidecar enforces, in decision order, with
// what compiling them found wrong (each such problem made the rule fail closed). Answers "which policy
// decided this request" together with the access log's `policy` field.
import type { MeshView } from '../discovery/index.js';
import { policyIndexOf } from './enforce.js';

const ACTIONS = ['unspecified', 'Allow', 'Deny'];

export function policyDump(view: MeshView | undefined): unknown {
  if (!view) return { snapshot: false, defaultAction: null, rules: [], note: 'no snapshot yet: every inbound connection is refused' };
  const index = policyIndexOf(view);
  return {
    snapshot: true,
    version: view.version,
    defaultAction: index.defaultAllow ? 'Allow' : 'Deny',
    /** What happens when no rule matches. */
    fallback: index.fallback.reason === 'default'
      ? `the Mesh default: ${index.defaultAllow ? 'Allow' : 'Deny'}`
      : 'Deny: Allows select this pod and none matched (named after the closest Allow)',
    rules: index.rules.map((r) => ({
      policy: r.policy,
      action: r.deny ? 'Deny' : 'Allow',
      ...(r.source.action !== 1 && r.source.action !== 2 ? { declaredAction: ACTIONS[r.source.action] ?? String(r.source.action) } : {}),
      selector: r.source.selectorMatchLabels,
      from: r.source.from.length === 0 ? 'any caller (authenticated or not)' : r.source.from.map((s) => ({
        ...(s.serviceAccounts.length > 0 ? { serviceAccounts: s.serviceAccounts } : {}),
        ...(s.namespaces.length > 0 ? { namespaces: s.namespaces } : {}),
      })),
      to: r.source.to.length === 0 ? 'everything' : r.source.to.map((d) => ({
        ...(d.ports.length > 0 ? { ports: d.ports } : {}),
        ...(d.methods.length > 0 ? { methods: d.methods.map((m) => m.toUpperCase()) } : {}),
        ...(d.paths.length > 0 ? { paths: d.paths } : {}),
        ...(d.methods.length > 0 || d.paths.length > 0 ? { opaque: r.deny ? 'denies on ports alone' : 'never matches opaque TCP' } : {}),
      })),
      ...(r.problems.length > 0 ? { problems: r.problems } : {}),
    })),
  };
}
