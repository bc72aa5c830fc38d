// The injector: a pure "mutate this pod" core (no I/O). May import only node: built-ins, ../contract.js and
// types of @kubernetes/client-node; the admission layer (../admission) decodes requests and builds the patch.
export { decide, type InjectDecision } from './decide.js';
export { defaultInjectorConfig, type InjectorConfig } from './config.js';
export { InjectRejection, type RejectReason } from './errors.js';
export type { SkipReason } from './precheck.js';
export type { ProbeKind, OriginalProbes } from './probes.js';
export { DEFAULT_PROXY_RESOURCES, type MeshOptions, type ProxyResources } from './annotations.js';
export * as injectorConstants from './constants.js';
