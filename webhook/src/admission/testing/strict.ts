// Test support: fields the Kubernetes API does not know. A JSON schema without additionalProperties lets a
// misspelt field through, and the API server drops unknown fields of a webhook patch silently — so a typo in
// what the injector writes would just vanish. The type maps of @kubernetes/client-node's models are the API's
// field lists.
import * as k8s from '@kubernetes/client-node';

interface Attribute { baseName: string; type: string }
type Model = { getAttributeTypeMap(): Attribute[] };

function modelOf(type: string): Model | undefined {
  const candidate = (k8s as unknown as Record<string, unknown>)[type];
  return typeof candidate === 'function' && 'getAttributeTypeMap' in candidate ? (candidate as unknown as Model) : undefined;
}

/** JSON paths of fields unknown to the API type `type` (e.g. "V1Pod") anywhere below `value`. */
export function unknownFields(value: unknown, type = 'V1Pod', path = ''): string[] {
  const list = /^Array<(.+)>$/.exec(type);
  if (list !== null) {
    return Array.isArray(value) ? value.flatMap((item, i) => unknownFields(item, list[1]!, `${path}/${i}`)) : [];
  }
  const model = modelOf(type);
  if (model === undefined || typeof value !== 'object' || value === null) return [];
  const attributes = new Map(model.getAttributeTypeMap().map((a) => [a.baseName, a.type]));
  return Object.entries(value).flatMap(([key, child]) => {
    const childType = attributes.get(key);
    if (childType === undefined) return [`${path}/${key}`];
    return unknownFields(child, childType, `${path}/${key}`);
  });
}
