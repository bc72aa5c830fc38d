// TrafficPermission in skein-cp (docs/policy.md): validation beyond the CRD schema and what an invalid
// object becomes (fail closed), compilation per pod into Snapshot.policies, and the status report.
export type { Condition, Effect, Selector, TrafficPermissionObject, Verdict } from './types.js';
export { validateTrafficPermission } from './validate.js';
export { compilePolicies, type PolicySet } from './compile.js';
export { startPolicyReporter, type PolicyReporter } from './reporter.js';
export { localStatusStore, localStatusFile } from './status-local.js';
export { kubeStatusStore } from './status-kube.js';
