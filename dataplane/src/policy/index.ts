// Authorization of inbound traffic by TrafficPermission (docs/policy.md "How the sidecar decides"): path
// normalisation (path.ts), the decision engine indexed once per snapshot (rules.ts, glob.ts), enforcement
// and revocation per connection (enforce.ts), the /config_dump view (dump.ts). May import @skein/api
// types, discovery/ types, metrics; nothing here dials or listens.
export { normaliseTarget, normalisePath, type NormalisedTarget, type PathProblem } from './path.js';
export {
  PolicyIndex, ConnectionRules, callerOf, compileRule, DEFAULT_POLICY, NO_SNAPSHOT_POLICY,
  type Decision, type DecisionReason, type CompiledRule,
} from './rules.js';
export { InboundAuthz, ConnectionAuthz, deniedBody, policyIndexOf, type RequestVerdict } from './enforce.js';
export { policyDump } from './dump.js';
