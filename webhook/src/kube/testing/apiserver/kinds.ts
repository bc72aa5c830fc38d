// The resources the in-memory API server serves: every kind skein-cp writes, with the strategy flags of
// its real registry (pkg/registry/.../strategy.go) and its defaulting/validation functions.
//   Lease:   AllowCreateOnUpdate true (a PUT may create it), AllowUnconditionalUpdate false (a PUT
//            without resourceVersion is refused 422)   — pkg/registry/coordination/lease/strategy.go
//   Secret:  AllowCreateOnUpdate false, AllowUnconditionalUpdate true — pkg/registry/core/secret/strategy.go
//   MutatingWebhookConfiguration: AllowCreateOnUpdate false, AllowUnconditionalUpdate true, generation
//            1 on create and +1 when webhooks change — pkg/registry/admissionregistration/mutatingwebhookconfiguration/strategy.go
//   ConfigMap: kinds-configmap.ts
import type { Schema } from './go-json.js';
import { CONFIG_MAPS } from './kinds-configmap.js';
import { DISCOVERY_KINDS } from './kinds-discovery.js';
import { LEASE, MUTATING_WEBHOOK_CONFIGURATION, SECRET } from './schemas.js';
import type { FieldError } from './status.js';
import { validateLease, validateLeaseUpdate } from './validate-lease.js';
import type { Obj } from './validate-meta.js';
import { defaultSecret, validateSecret, validateSecretUpdate } from './validate-secret.js';
import { defaultWebhookConfiguration, validateWebhookConfiguration, validateWebhookConfigurationUpdate } from './validate-webhooks.js';

export interface Kind {
  readonly group: string;
  readonly version: string;
  readonly kind: string;
  /** Plural resource name, as in the URL and in NotFound/Conflict messages. */
  readonly resource: string;
  readonly namespaced: boolean;
  readonly schema: Schema;
  readonly allowCreateOnUpdate: boolean;
  readonly allowUnconditionalUpdate: boolean;
  /** Whether generation is tracked (set to 1 on create, bumped by `specChanged`). */
  readonly specChanged?: (o: Obj, old: Obj) => boolean;
  readonly defaults: (o: Obj) => Obj;
  readonly validate: (o: Obj) => FieldError[];
  readonly validateUpdate: (o: Obj, old: Obj) => FieldError[];
  /**
   * The status subresource (.../NAME/status): create sets `initial` (undefined drops status), an update of
   * the main resource keeps the stored status, an update of .../status changes only the status.
   */
  readonly status?: {
    readonly initial: (o: Obj) => unknown;
    /** Conversion of a written status (Pod: podIP and podIPs agree). */
    readonly normalise?: (status: Obj) => Obj;
    readonly validateUpdate: (o: Obj, old: Obj) => FieldError[];
  };
  /** Registry work before create validation (Service: cluster IP allocation); may set fields. */
  readonly prepareForCreate?: (o: Obj, peers: () => Obj[]) => FieldError[];
  /** Registry work before update validation (Service: an omitted cluster IP keeps the allocated one). */
  readonly prepareForUpdate?: (o: Obj, old: Obj) => void;
  /** Custom resources: structural pruning while decoding; returns `unknown field "..."` for each field dropped. */
  readonly prune?: (o: Obj) => string[];
}

export const apiVersionOf = (k: Kind): string => (k.group === '' ? k.version : `${k.group}/${k.version}`);

export const LEASES: Kind = {
  group: 'coordination.k8s.io', version: 'v1', kind: 'Lease', resource: 'leases', namespaced: true, schema: LEASE,
  allowCreateOnUpdate: true, allowUnconditionalUpdate: false,
  defaults: (o) => o, validate: validateLease, validateUpdate: validateLeaseUpdate,
};

export const SECRETS: Kind = {
  group: '', version: 'v1', kind: 'Secret', resource: 'secrets', namespaced: true, schema: SECRET,
  allowCreateOnUpdate: false, allowUnconditionalUpdate: true,
  defaults: defaultSecret, validate: validateSecret, validateUpdate: validateSecretUpdate,
};

export const MUTATING_WEBHOOK_CONFIGURATIONS: Kind = {
  group: 'admissionregistration.k8s.io', version: 'v1', kind: 'MutatingWebhookConfiguration', resource: 'mutatingwebhookconfigurations',
  namespaced: false, schema: MUTATING_WEBHOOK_CONFIGURATION,
  allowCreateOnUpdate: false, allowUnconditionalUpdate: true,
  specChanged: (o, old) => JSON.stringify(o.webhooks ?? null) !== JSON.stringify(old.webhooks ?? null),
  defaults: defaultWebhookConfiguration, validate: validateWebhookConfiguration, validateUpdate: validateWebhookConfigurationUpdate,
};

export const KINDS: readonly Kind[] = [LEASES, SECRETS, MUTATING_WEBHOOK_CONFIGURATIONS, CONFIG_MAPS, ...DISCOVERY_KINDS];
