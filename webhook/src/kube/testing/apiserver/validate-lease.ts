// Lease validation, modelling kubernetes pkg/apis/coordination/validation/validation.go (ValidateLease,
// ValidateLeaseUpdate, ValidateLeaseSpec, ValidateCoordinatedLeaseStrategy). The MicroTime fields are
// not validated there ("spec.RenewTime is a MicroTime and doesn't need further validation"): their
// format is enforced earlier, by decoding (go-json.ts → go-time.ts), which is where a millisecond
// timestamp fails with 400.
import { nameIsDnsSubdomain } from './names.js';
import { forbidden, goInt, goString, invalid, notSupported, type FieldError } from './status.js';
import { num, obj, str, validateObjectMeta, validateObjectMetaUpdate, type Obj } from './validate-meta.js';

const VALID_STRATEGIES = ['OldestEmulationVersion'];

function validateLeaseSpec(spec: Obj | undefined): FieldError[] {
  const errs: FieldError[] = [];
  const duration = num(spec, 'leaseDurationSeconds');
  if (duration !== undefined && duration <= 0) errs.push(invalid('spec.leaseDurationSeconds', goInt(duration), 'must be greater than 0'));
  const transitions = num(spec, 'leaseTransitions');
  if (transitions !== undefined && transitions < 0) errs.push(invalid('spec.leaseTransitions', goInt(transitions), 'must be greater than or equal to 0'));
  const strategy = spec?.strategy;
  if (typeof strategy === 'string' && !strategy.includes('/') && !VALID_STRATEGIES.includes(strategy)) {
    // The real code appends Child("strategy") to a path that already ends in strategy.
    errs.push(notSupported('spec.strategy.strategy', goString(strategy), VALID_STRATEGIES));
  }
  if (str(spec, 'preferredHolder') !== '' && str(spec, 'strategy') === '') {
    errs.push(forbidden('spec.preferredHolder', 'may only be specified if `strategy` is defined'));
  }
  return errs;
}

export function validateLease(lease: Obj): FieldError[] {
  return [...validateObjectMeta(obj(lease, 'metadata') ?? {}, true, nameIsDnsSubdomain), ...validateLeaseSpec(obj(lease, 'spec'))];
}

export function validateLeaseUpdate(lease: Obj, old: Obj): FieldError[] {
  return [...validateObjectMetaUpdate(obj(lease, 'metadata') ?? {}, obj(old, 'metadata') ?? {}), ...validateLeaseSpec(obj(lease, 'spec'))];
}
