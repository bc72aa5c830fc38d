// EndpointSlice (discovery.k8s.io/v1) defaulting and validation, modelling kubernetes
// pkg/apis/discovery/v1/defaults.go (port protocol TCP, port name "") and
// pkg/apis/discovery/validation/validation.go (ValidateEndpointSlice / ...Update: addressType, at most
// 1000 endpoints of 1-100 addresses each valid for the address type, at most 100 ports with unique
// DNS-1123-label names, addressType immutable).
import { isIPv4, isIPv6 } from 'node:net';
import { isDns1123Label, isDns1123Subdomain, isQualifiedName, nameIsDnsSubdomain } from './names.js';
import { PORT_RANGE_MSG, PROTOCOLS } from './validate-pod.js';
import { duplicate, goInt, goString, invalid, notSupported, required, type FieldError } from './status.js';
import { arr, num, obj, str, validateObjectMeta, validateObjectMetaUpdate, type Obj } from './validate-meta.js';

const ADDRESS_TYPES = ['FQDN', 'IPv4', 'IPv6'];
const MAX_ENDPOINTS = 1000;
const MAX_PORTS = 100;
const MAX_ADDRESSES = 100;

export function defaultEndpointSlice(s: Obj): Obj {
  const out: Obj = { ...s };
  if (Array.isArray(s.ports)) out.ports = (s.ports as Obj[]).map((p) => ({ ...p, name: str(p, 'name'), protocol: str(p, 'protocol') || 'TCP' }));
  return out;
}

function validateBody(s: Obj): FieldError[] {
  const errs: FieldError[] = [];
  const type = str(s, 'addressType');
  if (type === '') errs.push(required('addressType'));
  else if (!ADDRESS_TYPES.includes(type)) errs.push(notSupported('addressType', goString(type), ADDRESS_TYPES));
  const endpoints = arr(s, 'endpoints') as Obj[];
  if (endpoints.length > MAX_ENDPOINTS) errs.push(invalid('endpoints', goInt(endpoints.length), `must have at most ${MAX_ENDPOINTS} items`));
  endpoints.forEach((ep, i) => {
    const f = `endpoints[${i}]`;
    const addresses = arr(ep, 'addresses') as string[];
    if (addresses.length === 0) errs.push(required(`${f}.addresses`, 'must contain at least 1 address'));
    if (addresses.length > MAX_ADDRESSES) errs.push(invalid(`${f}.addresses`, goInt(addresses.length), `must have at most ${MAX_ADDRESSES} items`));
    addresses.forEach((a, j) => {
      const af = `${f}.addresses[${j}]`;
      if (type === 'IPv4' && !isIPv4(a)) errs.push(invalid(af, goString(a), 'must be a valid IPv4 address'));
      if (type === 'IPv6' && !isIPv6(a)) errs.push(invalid(af, goString(a), 'must be a valid IPv6 address'));
      if (type === 'FQDN') for (const m of isDns1123Subdomain(a)) errs.push(invalid(af, goString(a), m));
    });
    const node = str(ep, 'nodeName');
    if (node !== '') for (const m of isDns1123Subdomain(node)) errs.push(invalid(`${f}.nodeName`, goString(node), m));
    const host = str(ep, 'hostname');
    if (host !== '') for (const m of isDns1123Label(host)) errs.push(invalid(`${f}.hostname`, goString(host), m));
  });
  const ports = arr(s, 'ports') as Obj[];
  if (ports.length > MAX_PORTS) errs.push(invalid('ports', goInt(ports.length), `must have at most ${MAX_PORTS} items`));
  const names = new Set<string>();
  ports.forEach((p, i) => {
    const f = `ports[${i}]`;
    const name = str(p, 'name');
    if (name !== '') for (const m of isDns1123Label(name)) errs.push(invalid(`${f}.name`, goString(name), m));
    if (names.has(name)) errs.push(duplicate(`${f}.name`, goString(name)));
    names.add(name);
    const port = num(p, 'port');
    if (port !== undefined && !(port >= 1 && port <= 65535)) errs.push(invalid(`${f}.port`, goInt(port), PORT_RANGE_MSG));
    const proto = str(p, 'protocol');
    if (!PROTOCOLS.includes(proto)) errs.push(notSupported(`${f}.protocol`, goString(proto), PROTOCOLS));
    const ap = str(p, 'appProtocol');
    if (ap !== '') for (const m of isQualifiedName(ap)) errs.push(invalid(`${f}.appProtocol`, goString(ap), m));
  });
  return errs;
}

export function validateEndpointSlice(s: Obj): FieldError[] {
  return [...validateObjectMeta(obj(s, 'metadata') ?? {}, true, nameIsDnsSubdomain), ...validateBody(s)];
}

export function validateEndpointSliceUpdate(s: Obj, old: Obj): FieldError[] {
  const errs = [...validateObjectMetaUpdate(obj(s, 'metadata') ?? {}, obj(old, 'metadata') ?? {}), ...validateBody(s)];
  if (str(s, 'addressType') !== str(old, 'addressType')) errs.push(invalid('addressType', goString(str(s, 'addressType')), 'field is immutable'));
  return errs;
}
