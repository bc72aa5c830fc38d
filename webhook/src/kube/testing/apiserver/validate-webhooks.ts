// MutatingWebhookConfiguration defaulting and validation, modelling kubernetes
// pkg/apis/admissionregistration/v1/defaults.go (SetDefaults_MutatingWebhook, SetDefaults_Rule,
// SetDefaults_ServiceReference) and pkg/apis/admissionregistration/validation/validation.go
// (validateMutatingWebhookConfiguration, validateMutatingWebhook, validateRuleWithOperations,
// validateAdmissionReviewVersions; ValidateMutatingWebhookConfigurationUpdate relaxes the sideEffects,
// review-version and unique-name rules only where the stored object already broke them) and
// apiserver pkg/util/webhook/validation.go (ValidateWebhookService, ValidateWebhookURL).
// CEL matchConditions are checked for presence of name and expression only (no CEL compiler here).
import { isDns1035Label, isDns1123Subdomain, nameIsDnsSubdomain, isQualifiedName } from './names.js';
import { duplicate, goInt, goString, invalid, notSupported, required, type FieldError } from './status.js';
import { arr, num, obj, str, validateLabelSelector, validateObjectMeta, validateObjectMetaUpdate, type Obj } from './validate-meta.js';

const FAILURE_POLICIES = ['Fail', 'Ignore'];
const MATCH_POLICIES = ['Equivalent', 'Exact'];
const SIDE_EFFECTS_ALL = ['None', 'NoneOnDryRun', 'Some', 'Unknown'];
const SIDE_EFFECTS_NONE = ['None', 'NoneOnDryRun'];
const REINVOCATION = ['IfNeeded', 'Never'];
const OPERATIONS = ['*', 'CONNECT', 'CREATE', 'DELETE', 'UPDATE'];
const SCOPES = ['*', 'Cluster', 'Namespaced'];
const REVIEW_VERSIONS = ['v1', 'v1beta1'];

const hooks = (c: Obj): Obj[] => arr(c, 'webhooks').map((w) => (w ?? {}) as Obj);

/** v1 defaults applied on every write, so what is stored and served has them. */
export function defaultWebhookConfiguration(c: Obj): Obj {
  const out = structuredClone(c);
  for (const w of hooks(out)) {
    w.failurePolicy ??= 'Fail';
    w.matchPolicy ??= 'Equivalent';
    w.namespaceSelector ??= {};
    w.objectSelector ??= {};
    w.timeoutSeconds ??= 10;
    w.reinvocationPolicy ??= 'Never';
    const service = obj(obj(w, 'clientConfig'), 'service');
    if (service) service.port ??= 443;
    for (const r of arr(w, 'rules')) if (r && typeof r === 'object') (r as Obj).scope ??= '*';
  }
  return out;
}

function isFullyQualifiedName(fld: string, name: string): FieldError[] {
  if (name === '') return [required(fld)];
  const errs = isDns1123Subdomain(name);
  if (errs.length > 0) return [invalid(fld, goString(name), errs.join(','))];
  if (name.split('.').length < 3) return [invalid(fld, goString(name), 'should be a domain with at least three segments separated by dots')];
  return [];
}

function validateService(fld: string, service: Obj): FieldError[] {
  const errs: FieldError[] = [];
  if (str(service, 'name') === '') errs.push(required(`${fld}.name`, 'service name is required'));
  if (str(service, 'namespace') === '') errs.push(required(`${fld}.namespace`, 'service namespace is required'));
  const port = num(service, 'port') ?? 0;
  if (port < 1 || port > 65535) errs.push(invalid(`${fld}.port`, goInt(port), 'port is not valid: must be between 1 and 65535, inclusive'));
  const path = str(service, 'path');
  if (path !== '' && path !== '/' && !path.startsWith('/')) errs.push(invalid(`${fld}.path`, goString(path), "must start with a '/'"));
  return errs;
}

function validateUrl(fld: string, raw: string): FieldError[] {
  let u: URL;
  try { u = new URL(raw); } catch (err) { return [invalid(fld, goString(raw), `host must be specified: ${(err as Error).message}`)]; }
  const errs: FieldError[] = [];
  if (u.protocol !== 'https:') errs.push(invalid(fld, goString(raw), "'https' is the only allowed URL scheme"));
  if (u.hostname === '') errs.push(invalid(fld, goString(raw), 'host must be specified'));
  if (u.username !== '' || u.password !== '') errs.push(invalid(fld, goString(raw), 'user information is not permitted in the URL'));
  if (u.hash !== '') errs.push(invalid(fld, goString(raw), 'fragments are not permitted in the URL'));
  if (u.search !== '') errs.push(invalid(fld, goString(raw), 'query parameters are not permitted in the URL'));
  return errs;
}

function validateRule(r: Obj, fld: string): FieldError[] {
  const errs: FieldError[] = [];
  const ops = arr(r, 'operations').map(String);
  if (ops.length === 0) errs.push(required(`${fld}.operations`));
  ops.forEach((o, i) => { if (!OPERATIONS.includes(o)) errs.push(notSupported(`${fld}.operations[${i}]`, goString(o), OPERATIONS)); });
  if (arr(r, 'apiGroups').length === 0) errs.push(required(`${fld}.apiGroups`));
  const versions = arr(r, 'apiVersions').map(String);
  if (versions.length === 0) errs.push(required(`${fld}.apiVersions`));
  versions.forEach((v, i) => { if (v === '') errs.push(required(`${fld}.apiVersions[${i}]`)); });
  const resources = arr(r, 'resources').map(String);
  if (resources.length === 0) errs.push(required(`${fld}.resources`));
  resources.forEach((v, i) => { if (v === '') errs.push(required(`${fld}.resources[${i}]`)); });
  const scope = r.scope;
  if (typeof scope === 'string' && !SCOPES.includes(scope)) errs.push(notSupported(`${fld}.scope`, goString(scope), SCOPES));
  return errs;
}

interface Options { readonly requireNoSideEffects: boolean; readonly requireRecognizedReviewVersion: boolean; readonly requireUniqueNames: boolean }

function validateHook(w: Obj, fld: string, opts: Options): FieldError[] {
  const errs = isFullyQualifiedName(`${fld}.name`, str(w, 'name'));
  arr(w, 'rules').forEach((r, i) => errs.push(...validateRule((r ?? {}) as Obj, `${fld}.rules[${i}]`)));
  const enumOf = (k: string, allowed: readonly string[]): void => {
    const v = w[k];
    if (typeof v === 'string' && !allowed.includes(v)) errs.push(notSupported(`${fld}.${k}`, goString(v), allowed));
  };
  enumOf('failurePolicy', FAILURE_POLICIES);
  enumOf('matchPolicy', MATCH_POLICIES);
  const sideEffects = opts.requireNoSideEffects ? SIDE_EFFECTS_NONE : SIDE_EFFECTS_ALL;
  if (typeof w.sideEffects !== 'string') errs.push(required(`${fld}.sideEffects`, `must specify one of ${sideEffects.join(', ')}`));
  else enumOf('sideEffects', sideEffects);
  const timeout = num(w, 'timeoutSeconds');
  if (timeout !== undefined && (timeout > 30 || timeout < 1)) errs.push(invalid(`${fld}.timeoutSeconds`, goInt(timeout), 'the timeout value must be between 1 and 30 seconds'));
  for (const k of ['namespaceSelector', 'objectSelector']) {
    const sel = obj(w, k);
    if (sel) errs.push(...validateLabelSelector(sel, `${fld}.${k}`));
  }
  enumOf('reinvocationPolicy', REINVOCATION);
  const cc = obj(w, 'clientConfig') ?? {};
  const url = typeof cc.url === 'string' ? cc.url : undefined;
  const service = obj(cc, 'service');
  if ((url === undefined) === (service === undefined)) errs.push(required(`${fld}.clientConfig`, 'exactly one of url or service is required'));
  else if (url !== undefined) errs.push(...validateUrl(`${fld}.clientConfig.url`, url));
  else if (service) errs.push(...validateService(`${fld}.clientConfig.service`, service));
  arr(w, 'matchConditions').forEach((m, i) => {
    const c = (m ?? {}) as Obj;
    if (str(c, 'name') === '') errs.push(required(`${fld}.matchConditions[${i}].name`));
    else for (const msg of isQualifiedName(str(c, 'name'))) errs.push(invalid(`${fld}.matchConditions[${i}].name`, goString(str(c, 'name')), msg));
    if (str(c, 'expression') === '') errs.push(required(`${fld}.matchConditions[${i}].expression`));
  });
  // validateAdmissionReviewVersions
  const versions = arr(w, 'admissionReviewVersions').map(String);
  const vfld = `${fld}.admissionReviewVersions`;
  if (versions.length === 0) {
    errs.push(required(vfld, `must specify one of ${REVIEW_VERSIONS.join(', ')}`));
  } else {
    const seen = new Set<string>();
    versions.forEach((v, i) => {
      if (seen.has(v)) { errs.push(invalid(`${vfld}[${i}]`, goString(v), 'duplicate version')); return; }
      seen.add(v);
      for (const m of isDns1035Label(v)) errs.push(invalid(`${vfld}[${i}]`, goString(v), m));
    });
    if (opts.requireRecognizedReviewVersion && !versions.some((v) => REVIEW_VERSIONS.includes(v))) {
      errs.push(invalid(vfld, goString(versions.join(' ')), `must include at least one of ${REVIEW_VERSIONS.join(', ')}`));
    }
  }
  return errs;
}

function validateConfiguration(c: Obj, opts: Options): FieldError[] {
  const errs = validateObjectMeta(obj(c, 'metadata') ?? {}, false, nameIsDnsSubdomain);
  const names = new Set<string>();
  hooks(c).forEach((w, i) => {
    errs.push(...validateHook(w, `webhooks[${i}]`, opts));
    const name = str(w, 'name');
    if (opts.requireUniqueNames && name !== '') {
      if (names.has(name)) errs.push(duplicate(`webhooks[${i}].name`, goString(name)));
      names.add(name);
    }
  });
  return errs;
}

export function validateWebhookConfiguration(c: Obj): FieldError[] {
  return validateConfiguration(c, { requireNoSideEffects: true, requireRecognizedReviewVersion: true, requireUniqueNames: true });
}

export function validateWebhookConfigurationUpdate(c: Obj, old: Obj): FieldError[] {
  const oldHooks = hooks(old);
  const opts: Options = {
    requireNoSideEffects: oldHooks.every((w) => SIDE_EFFECTS_NONE.includes(str(w, 'sideEffects'))),
    requireRecognizedReviewVersion: oldHooks.every((w) => {
      const v = arr(w, 'admissionReviewVersions').map(String);
      return v.length === 0 || v.some((x) => REVIEW_VERSIONS.includes(x));
    }),
    requireUniqueNames: new Set(oldHooks.map((w) => str(w, 'name'))).size === oldHooks.length,
  };
  return [...validateObjectMetaUpdate(obj(c, 'metadata') ?? {}, obj(old, 'metadata') ?? {}), ...validateConfiguration(c, opts)];
}
