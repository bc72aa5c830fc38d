// Secret defaulting and validation, modelling kubernetes pkg/apis/core/v1 (SetDefaults_Secret: type ""
// → Opaque; the v1 → internal conversion folds stringData into data) and pkg/apis/core/validation
// (ValidateSecret: name is a DNS subdomain, data keys are config-map keys, 1 MiB in total, the keys each
// type requires; ValidateSecretUpdate: type immutable, an immutable Secret's data frozen).
import { isConfigMapKey, nameIsDnsSubdomain } from './names.js';
import { forbidden, goString, invalid, required, tooLong, type FieldError } from './status.js';
import { obj, str, strMap, validateObjectMeta, validateObjectMetaUpdate, type Obj } from './validate-meta.js';

/** core.MaxSecretSize. */
export const MAX_SECRET_SIZE = 1024 * 1024;

/** Defaults and conversion before validation (data values stay base64, as stored and served). */
export function defaultSecret(secret: Obj): Obj {
  const out: Obj = { ...secret };
  if (str(out, 'type') === '') out.type = 'Opaque';
  const stringData = strMap(out, 'stringData');
  if (Object.keys(stringData).length > 0) {
    const data: Record<string, string> = { ...strMap(out, 'data') };
    for (const [k, v] of Object.entries(stringData)) data[k] = Buffer.from(v, 'utf8').toString('base64');
    out.data = data;
  }
  delete out.stringData;
  return out;
}

const bytesOf = (data: Record<string, string>, k: string): Buffer | undefined =>
  data[k] === undefined ? undefined : Buffer.from(data[k], 'base64');

export function validateSecret(secret: Obj): FieldError[] {
  const errs = validateObjectMeta(obj(secret, 'metadata') ?? {}, true, nameIsDnsSubdomain);
  const data = strMap(secret, 'data');
  let total = 0;
  for (const k of Object.keys(data)) {
    for (const m of isConfigMapKey(k)) errs.push(invalid(`data[${k}]`, goString(k), m));
    total += bytesOf(data, k)?.length ?? 0;
  }
  if (total > MAX_SECRET_SIZE) errs.push(tooLong('data', MAX_SECRET_SIZE));
  const annotations = strMap(obj(secret, 'metadata'), 'annotations');
  const requireKey = (k: string): void => { if (data[k] === undefined) errs.push(required(`data[${k}]`)); };
  const requireJson = (k: string): void => {
    const b = bytesOf(data, k);
    if (b === undefined) { errs.push(required(`data[${k}]`)); return; }
    try { JSON.parse(b.toString('utf8')); } catch (err) { errs.push(invalid(`data[${k}]`, goString('<secret contents redacted>'), (err as Error).message)); }
  };
  switch (str(secret, 'type')) {
    case 'kubernetes.io/service-account-token':
      if (!annotations['kubernetes.io/service-account.name']) errs.push(required('metadata.annotations[kubernetes.io/service-account.name]'));
      break;
    case 'kubernetes.io/dockercfg': requireJson('.dockercfg'); break;
    case 'kubernetes.io/dockerconfigjson': requireJson('.dockerconfigjson'); break;
    case 'kubernetes.io/basic-auth':
      if (data.username === undefined && data.password === undefined) { requireKey('username'); requireKey('password'); }
      break;
    case 'kubernetes.io/ssh-auth':
      if ((bytesOf(data, 'ssh-privatekey')?.length ?? 0) === 0) errs.push(required('data[ssh-privatekey]'));
      break;
    case 'kubernetes.io/tls':
      requireKey('tls.crt');
      requireKey('tls.key');
      break;
    default:
      break;
  }
  return errs;
}

export function validateSecretUpdate(secret: Obj, old: Obj): FieldError[] {
  const errs = validateObjectMetaUpdate(obj(secret, 'metadata') ?? {}, obj(old, 'metadata') ?? {});
  if (str(secret, 'type') !== str(old, 'type')) errs.push(invalid('type', goString(str(secret, 'type')), 'field is immutable'));
  if (old.immutable === true) {
    if (secret.immutable !== true) errs.push(forbidden('immutable', 'field is immutable when `immutable` is set'));
    const sorted = (o: Obj): string => JSON.stringify(Object.entries(strMap(o, 'data')).sort(([a], [b]) => (a < b ? -1 : 1)));
    if (sorted(secret) !== sorted(old)) errs.push(forbidden('data', 'field is immutable when `immutable` is set'));
  }
  return [...errs, ...validateSecret(secret)];
}
