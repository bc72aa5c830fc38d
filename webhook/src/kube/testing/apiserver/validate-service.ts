// Service defaulting, cluster IP allocation and validation for what tests write, modelling kubernetes
// pkg/apis/core/v1/defaults.go (SetDefaults_Service: type ClusterIP, sessionAffinity None, port protocol
// TCP, targetPort = port, internalTrafficPolicy Cluster), pkg/registry/core/service/storage (the IP
// allocator: a free address of the service CIDR, or the requested one if it is free and in range;
// dual-stack families from ipFamilyPolicy; an update without clusterIP keeps the allocated one —
// patchAllocatedValues) and pkg/apis/core/validation (ValidateService / ValidateServiceUpdate: ports,
// names, targetPort, clusterIPs immutable). CIDRs are kind's defaults: 10.96.0.0/16 and fd00:10:96::/112.
import { isIP, isIPv4 } from 'node:net';
import { isDns1035Label, isDns1123Label, isQualifiedName } from './names.js';
import { IP_MSG, PORT_RANGE_MSG, PROTOCOLS, portNameErrors } from './validate-pod.js';
import { duplicate, goInt, goRaw, goString, invalid, notSupported, required, type FieldError } from './status.js';
import { arr, num, obj, str, validateObjectMeta, validateObjectMetaUpdate, type Obj } from './validate-meta.js';

export const SERVICE_CIDR_V4 = '10.96.0.0/16';
export const SERVICE_CIDR_V6 = 'fd00:10:96::/112';
const TYPES = ['ClusterIP', 'ExternalName', 'LoadBalancer', 'NodePort'];
const POLICIES = ['PreferDualStack', 'RequireDualStack', 'SingleStack'];

const needsClusterIp = (svc: Obj): boolean => str(obj(svc, 'spec'), 'type') !== 'ExternalName';
const goStrings = (v: readonly string[]): string => `[]string{${v.map((s) => JSON.stringify(s)).join(', ')}}`;

export function defaultService(svc: Obj): Obj {
  const out: Obj = { ...svc };
  const spec: Obj = { ...(obj(svc, 'spec') ?? {}) };
  spec.type ??= 'ClusterIP';
  spec.sessionAffinity ??= 'None';
  if (spec.type !== 'ExternalName') spec.internalTrafficPolicy ??= 'Cluster';
  if (Array.isArray(spec.ports)) {
    spec.ports = (spec.ports as Obj[]).map((p) => ({ ...p, protocol: str(p, 'protocol') || 'TCP', targetPort: p.targetPort ?? p.port }));
  }
  out.spec = spec;
  return out;
}

export const initialServiceStatus = (): Obj => ({ loadBalancer: {} });

function v4ToInt(ip: string): number {
  return ip.split('.').reduce((a, o) => a * 256 + Number(o), 0);
}
const intToV4 = (n: number): string => [24, 16, 8, 0].map((s) => Math.floor(n / 2 ** s) % 256).join('.');

function v6ToBigInt(ip: string): bigint {
  const [head = '', tail] = ip.split('::');
  const h = head === '' ? [] : head.split(':');
  const t = tail === undefined || tail === '' ? [] : tail.split(':');
  const groups = tail === undefined ? h : [...h, ...Array<string>(8 - h.length - t.length).fill('0'), ...t];
  return groups.reduce((a, g) => (a << 16n) + BigInt(parseInt(g || '0', 16)), 0n);
}
function bigIntToV6(n: bigint): string {
  const groups = Array.from({ length: 8 }, (_, i) => ((n >> BigInt((7 - i) * 16)) & 0xffffn).toString(16));
  return groups.join(':').replace(/(^|:)0(:0)+(:|$)/, '::').replace(/:{3,}/, '::');
}

function inCidr(ip: string, cidr: string): boolean {
  const [base = '', bits = '0'] = cidr.split('/');
  if (isIPv4(ip) !== isIPv4(base)) return false;
  if (isIPv4(ip)) {
    const mask = 2 ** (32 - Number(bits));
    return Math.floor(v4ToInt(ip) / mask) === Math.floor(v4ToInt(base) / mask);
  }
  const shift = BigInt(128 - Number(bits));
  return v6ToBigInt(ip) >> shift === v6ToBigInt(base) >> shift;
}

function allocate(family: 4 | 6, used: Set<string>): string | undefined {
  // Offsets from 10 on: the first addresses are where clusters put kubernetes and kube-dns.
  for (let i = 10; i < 65534; i += 1) {
    const ip = family === 4 ? intToV4(v4ToInt('10.96.0.0') + i) : bigIntToV6(v6ToBigInt('fd00:10:96::') + BigInt(i));
    if (!used.has(ip)) return ip;
  }
  return undefined;
}

/** Allocation at create: fills clusterIP(s) and ipFamilies; errors as the allocator reports them. */
export function allocateServiceIps(svc: Obj, peers: () => Obj[]): FieldError[] {
  const spec = obj(svc, 'spec') ?? {};
  if (!needsClusterIp(svc)) return [];
  const requested = arr(spec, 'clusterIPs').length > 0 ? (arr(spec, 'clusterIPs') as string[]) : str(spec, 'clusterIP') !== '' ? [str(spec, 'clusterIP')] : [];
  const policy = str(spec, 'ipFamilyPolicy') || 'SingleStack';
  if (!POLICIES.includes(policy)) return [notSupported('spec.ipFamilyPolicy', goString(policy), POLICIES)];
  if (requested[0] === 'None') {
    spec.clusterIP = 'None';
    spec.clusterIPs = ['None'];
    spec.ipFamilies ??= ['IPv4'];
    spec.ipFamilyPolicy = policy;
    return [];
  }
  for (const [i, ip] of requested.entries()) {
    if (isIP(ip) === 0) return [invalid(`spec.clusterIPs[${i}]`, goString(ip), "must be empty, 'None', or a valid IP address")];
  }
  const used = new Set<string>();
  for (const p of peers()) for (const ip of arr(obj(p, 'spec'), 'clusterIPs') as string[]) used.add(ip);
  const families: (4 | 6)[] = requested.length > 0 ? requested.map((ip) => (isIPv4(ip) ? 4 : 6)) : [4];
  if (policy !== 'SingleStack' && families.length === 1) families.push(families[0] === 4 ? 6 : 4);
  if (families.length === 2 && families[0] === families[1]) {
    return [invalid('spec.clusterIPs', goRaw(goStrings(requested)), 'may specify no more than one IP for each IP family')];
  }
  const ips: string[] = [];
  for (const [i, family] of families.entries()) {
    const want = requested[i];
    if (want !== undefined) {
      const cidr = family === 4 ? SERVICE_CIDR_V4 : SERVICE_CIDR_V6;
      if (!inCidr(want, cidr)) return [invalid('spec.clusterIPs', goRaw(goStrings(requested)), `failed to allocate IP ${want}: provided IP is not in the valid range. The range of valid IPs is ${cidr}`)];
      if (used.has(want)) return [invalid('spec.clusterIPs', goRaw(goStrings(requested)), `failed to allocate IP ${want}: provided IP is already allocated`)];
      ips.push(want);
    } else {
      const ip = allocate(family, used);
      if (ip === undefined) return [invalid('spec.clusterIPs', goRaw(goStrings(requested)), 'failed to allocate IP: range is full')];
      ips.push(ip);
    }
  }
  spec.clusterIP = ips[0];
  spec.clusterIPs = ips;
  spec.ipFamilies = families.map((f) => (f === 4 ? 'IPv4' : 'IPv6'));
  spec.ipFamilyPolicy = policy;
  svc.spec = spec;
  return [];
}

/** patchAllocatedValues: an update that leaves the cluster IPs out keeps the allocated ones. */
export function keepAllocatedIps(svc: Obj, old: Obj): void {
  const spec = obj(svc, 'spec');
  const oldSpec = obj(old, 'spec');
  if (!spec || !oldSpec || !needsClusterIp(svc) || !needsClusterIp(old)) return;
  if (str(spec, 'clusterIP') === '') spec.clusterIP = oldSpec.clusterIP;
  if (arr(spec, 'clusterIPs').length === 0) spec.clusterIPs = oldSpec.clusterIPs;
  spec.ipFamilies ??= oldSpec.ipFamilies;
  spec.ipFamilyPolicy ??= oldSpec.ipFamilyPolicy;
}

function validateSpec(svc: Obj): FieldError[] {
  const errs: FieldError[] = [];
  const spec = obj(svc, 'spec');
  const type = str(spec, 'type');
  if (!TYPES.includes(type)) errs.push(notSupported('spec.type', goString(type), TYPES));
  const ports = arr(spec, 'ports') as Obj[];
  const headless = str(spec, 'clusterIP') === 'None';
  if (ports.length === 0 && !headless && type !== 'ExternalName') errs.push(required('spec.ports'));
  const names = new Set<string>();
  ports.forEach((p, i) => {
    const f = `spec.ports[${i}]`;
    const name = str(p, 'name');
    if (name === '') { if (ports.length > 1) errs.push(required(`${f}.name`)); }
    else for (const m of isDns1123Label(name)) errs.push(invalid(`${f}.name`, goString(name), m));
    if (name !== '' && names.has(name)) errs.push(duplicate(`${f}.name`, goString(name)));
    names.add(name);
    const port = num(p, 'port') ?? 0;
    if (!(port >= 1 && port <= 65535)) errs.push(invalid(`${f}.port`, goInt(port), PORT_RANGE_MSG));
    const proto = str(p, 'protocol');
    if (!PROTOCOLS.includes(proto)) errs.push(notSupported(`${f}.protocol`, goString(proto), PROTOCOLS));
    const tp = p.targetPort;
    if (typeof tp === 'number') {
      if (!(tp >= 1 && tp <= 65535)) errs.push(invalid(`${f}.targetPort`, goInt(tp), PORT_RANGE_MSG));
    } else if (typeof tp === 'string') {
      for (const m of portNameErrors(tp)) errs.push(invalid(`${f}.targetPort`, goString(tp), m));
    } else if (tp !== undefined) {
      errs.push(invalid(`${f}.targetPort`, goRaw(JSON.stringify(tp)), 'must be an int or a string'));
    }
    const ap = str(p, 'appProtocol');
    if (ap !== '') for (const m of isQualifiedName(ap)) errs.push(invalid(`${f}.appProtocol`, goString(ap), m));
  });
  for (const [i, ip] of (arr(spec, 'clusterIPs') as string[]).entries()) {
    if (ip !== 'None' && isIP(ip) === 0) errs.push(invalid(`spec.clusterIPs[${i}]`, goString(ip), IP_MSG));
  }
  if (str(spec, 'clusterIP') !== '' && arr(spec, 'clusterIPs').length > 0 && str(spec, 'clusterIP') !== (arr(spec, 'clusterIPs')[0] as string)) {
    errs.push(invalid('spec.clusterIPs', goRaw(goStrings(arr(spec, 'clusterIPs') as string[])), 'element [0] must match clusterIP'));
  }
  return errs;
}

export function validateService(svc: Obj): FieldError[] {
  // Service names are DNS-1035 labels (they become DNS names and env var prefixes).
  return [...validateObjectMeta(obj(svc, 'metadata') ?? {}, true, isDns1035Label), ...validateSpec(svc)];
}

export function validateServiceUpdate(svc: Obj, old: Obj): FieldError[] {
  const errs = [...validateObjectMetaUpdate(obj(svc, 'metadata') ?? {}, obj(old, 'metadata') ?? {}), ...validateSpec(svc)];
  const now = arr(obj(svc, 'spec'), 'clusterIPs') as string[];
  const before = arr(obj(old, 'spec'), 'clusterIPs') as string[];
  if (needsClusterIp(svc) && needsClusterIp(old) && before.length > 0 && now[0] !== before[0]) {
    errs.push(invalid('spec.clusterIPs[0]', goRaw(goStrings(now)), 'may not change once set'));
  }
  return errs;
}

export const validateServiceStatusUpdate = (svc: Obj, old: Obj): FieldError[] => validateObjectMetaUpdate(obj(svc, 'metadata') ?? {}, obj(old, 'metadata') ?? {});
