// ConfigMap validation, modelling kubernetes pkg/apis/core/validation (ValidateConfigMap: name is a DNS
// subdomain, every key of data and binaryData is a config-map key, a key may not be in both, the values
// together at most core.MaxSecretSize = 1 MiB, reported on the whole object (field path ""), and
// ValidateConfigMapUpdate: once immutable is true it stays true and data/binaryData are frozen).
// There are no ConfigMap defaults (no SetDefaults_ConfigMap); data values are strings, binaryData base64.
import { isConfigMapKey, nameIsDnsSubdomain } from './names.js';
import { forbidden, goString, invalid, tooLong, type FieldError } from './status.js';
import { MAX_SECRET_SIZE } from './validate-secret.js';
import { obj, strMap, validateObjectMeta, validateObjectMetaUpdate, type Obj } from './validate-meta.js';

export function validateConfigMap(cm: Obj): FieldError[] {
  const errs = validateObjectMeta(obj(cm, 'metadata') ?? {}, true, nameIsDnsSubdomain);
  const data = strMap(cm, 'data');
  const binary = strMap(cm, 'binaryData');
  let total = 0;
  for (const [k, v] of Object.entries(data)) {
    for (const m of isConfigMapKey(k)) errs.push(invalid(`data[${k}]`, goString(k), m));
    if (Object.hasOwn(binary, k)) errs.push(invalid(`data[${k}]`, goString(k), 'duplicate of key present in binaryData'));
    total += Buffer.byteLength(v, 'utf8'); // len() of a Go string counts bytes
  }
  for (const [k, v] of Object.entries(binary)) {
    for (const m of isConfigMapKey(k)) errs.push(invalid(`binaryData[${k}]`, goString(k), m));
    total += Buffer.from(v, 'base64').length;
  }
  if (total > MAX_SECRET_SIZE) errs.push(tooLong('', MAX_SECRET_SIZE));
  return errs;
}

const sortedJson = (m: Record<string, string>): string => JSON.stringify(Object.entries(m).sort(([a], [b]) => (a < b ? -1 : 1)));

export function validateConfigMapUpdate(cm: Obj, old: Obj): FieldError[] {
  const errs = validateObjectMetaUpdate(obj(cm, 'metadata') ?? {}, obj(old, 'metadata') ?? {});
  if (old.immutable === true) {
    if (cm.immutable !== true) errs.push(forbidden('immutable', 'field is immutable when `immutable` is set'));
    if (sortedJson(strMap(cm, 'data')) !== sortedJson(strMap(old, 'data'))) errs.push(forbidden('data', 'field is immutable when `immutable` is set'));
    if (sortedJson(strMap(cm, 'binaryData')) !== sortedJson(strMap(old, 'binaryData'))) errs.push(forbidden('binaryData', 'field is immutable when `immutable` is set'));
  }
  return [...errs, ...validateConfigMap(cm)];
}
