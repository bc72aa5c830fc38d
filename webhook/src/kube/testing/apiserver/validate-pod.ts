// Pod defaulting and validation for what tests write, modelling kubernetes pkg/apis/core/v1/defaults.go
// (SetDefaults_Pod, _PodSpec, _Container, _ContainerPort), the ServiceAccount admission plugin (an unset
// serviceAccountName becomes "default"), pkg/registry/core/pod/strategy.go (PrepareForCreate: status is
// reset to Pending; the main resource ignores status, pods/status ignores spec) and
// pkg/apis/core/validation (ValidatePodCreate / ValidatePodUpdate / ValidatePodStatusUpdate, containers,
// ports, pod IPs). The v1 → internal conversion makes status.podIP authoritative over status.podIPs.
import { isIP } from 'node:net';
import { isDns1123Label, nameIsDnsSubdomain } from './names.js';
import { duplicate, forbidden, goInt, goRaw, goString, invalid, notSupported, required, type FieldError } from './status.js';
import { arr, num, obj, str, validateObjectMeta, validateObjectMetaUpdate, type Obj } from './validate-meta.js';

export const PROTOCOLS = ['SCTP', 'TCP', 'UDP'];
export const PORT_RANGE_MSG = 'must be between 1 and 65535, inclusive';
export const IP_MSG = 'must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)';

/** validation.IsValidPortName (IANA_SVC_NAME). */
export function portNameErrors(v: string): string[] {
  const errs: string[] = [];
  if (v.length > 15) errs.push('must be no more than 15 characters');
  if (!/^[-a-z0-9]+$/.test(v)) errs.push('must contain only alpha-numeric characters (a-z, 0-9), and hyphens (-)');
  if (!/[a-z]/.test(v)) errs.push('must contain at least one letter (a-z)');
  if (v.includes('--')) errs.push('must not contain consecutive hyphens');
  if (v.startsWith('-') || v.endsWith('-')) errs.push('must not begin or end with a hyphen');
  return errs;
}

const validPort = (n: number): boolean => Number.isInteger(n) && n >= 1 && n <= 65535;

function imagePullPolicy(image: string): string {
  const last = image.split('/').pop() ?? '';
  if (image.includes('@')) return 'IfNotPresent';
  const tag = last.includes(':') ? last.slice(last.indexOf(':') + 1) : '';
  return tag === '' || tag === 'latest' ? 'Always' : 'IfNotPresent';
}

function defaultContainer(c: Obj): Obj {
  const out: Obj = { ...c };
  out.terminationMessagePath ??= '/dev/termination-log';
  out.terminationMessagePolicy ??= 'File';
  out.imagePullPolicy ??= imagePullPolicy(str(c, 'image'));
  out.resources ??= {};
  if (Array.isArray(c.ports)) out.ports = (c.ports as Obj[]).map((p) => ({ ...p, protocol: str(p, 'protocol') || 'TCP' }));
  return out;
}

export function defaultPod(pod: Obj): Obj {
  const out: Obj = { ...pod };
  const spec: Obj = { ...(obj(pod, 'spec') ?? {}) };
  spec.restartPolicy ??= 'Always';
  spec.terminationGracePeriodSeconds ??= 30;
  spec.dnsPolicy ??= 'ClusterFirst';
  spec.securityContext ??= {};
  spec.schedulerName ??= 'default-scheduler';
  spec.enableServiceLinks ??= true;
  if (str(spec, 'serviceAccountName') === '') spec.serviceAccountName = str(spec, 'serviceAccount') || 'default';
  spec.serviceAccount = spec.serviceAccountName;
  for (const k of ['containers', 'initContainers']) if (Array.isArray(spec[k])) spec[k] = (spec[k] as Obj[]).map(defaultContainer);
  out.spec = spec;
  return out;
}

/** PrepareForCreate: a new pod is Pending; whatever status the client sent is dropped. */
export const initialPodStatus = (): Obj => ({ phase: 'Pending', qosClass: 'BestEffort' });

function validateContainers(spec: Obj | undefined): FieldError[] {
  const errs: FieldError[] = [];
  const containers = arr(spec, 'containers') as Obj[];
  if (containers.length === 0) errs.push(required('spec.containers'));
  const names = new Set<string>();
  const portNames = new Set<string>();
  const check = (list: Obj[], field: string): void => list.forEach((c, i) => {
    const p = `spec.${field}[${i}]`;
    const name = str(c, 'name');
    if (name === '') errs.push(required(`${p}.name`));
    else for (const m of isDns1123Label(name)) errs.push(invalid(`${p}.name`, goString(name), m));
    if (name !== '' && names.has(name)) errs.push(duplicate(`${p}.name`, goString(name)));
    names.add(name);
    if (str(c, 'image').trim() === '') errs.push(required(`${p}.image`));
    (arr(c, 'ports') as Obj[]).forEach((port, j) => {
      const pp = `${p}.ports[${j}]`;
      const pn = str(port, 'name');
      if (pn !== '') {
        for (const m of portNameErrors(pn)) errs.push(invalid(`${pp}.name`, goString(pn), m));
        if (portNames.has(pn)) errs.push(duplicate(`${pp}.name`, goString(pn)));
        portNames.add(pn);
      }
      const cp = num(port, 'containerPort') ?? 0;
      if (cp === 0) errs.push(required(`${pp}.containerPort`));
      else if (!validPort(cp)) errs.push(invalid(`${pp}.containerPort`, goInt(cp), PORT_RANGE_MSG));
      const proto = str(port, 'protocol');
      if (!PROTOCOLS.includes(proto)) errs.push(notSupported(`${pp}.protocol`, goString(proto), PROTOCOLS));
    });
  });
  check(containers, 'containers');
  check(arr(spec, 'initContainers') as Obj[], 'initContainers');
  return errs;
}

export function validatePod(pod: Obj): FieldError[] {
  return [...validateObjectMeta(obj(pod, 'metadata') ?? {}, true, nameIsDnsSubdomain), ...validateContainers(obj(pod, 'spec'))];
}

/** JSON with sorted keys at every level (Go's semantic equality of decoded objects). */
export function canonicalJson(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonicalJson).join(',')}]`;
  if (v !== null && typeof v === 'object') {
    return `{${Object.keys(v).sort().map((k) => `${JSON.stringify(k)}:${canonicalJson((v as Obj)[k])}`).join(',')}}`;
  }
  return JSON.stringify(v) ?? 'null';
}

/** The spec with what an update may change blanked out (ValidatePodUpdate's mungedPodSpec). */
function mungedSpec(spec: Obj | undefined): string {
  const s: Obj = structuredClone(spec ?? {});
  for (const k of ['containers', 'initContainers']) {
    if (Array.isArray(s[k])) s[k] = (s[k] as Obj[]).map((c) => ({ ...c, image: '' }));
  }
  delete s.activeDeadlineSeconds;
  delete s.tolerations;
  delete s.terminationGracePeriodSeconds;
  return canonicalJson(s);
}

export function validatePodUpdate(pod: Obj, old: Obj): FieldError[] {
  const errs = [...validateObjectMetaUpdate(obj(pod, 'metadata') ?? {}, obj(old, 'metadata') ?? {}), ...validateContainers(obj(pod, 'spec'))];
  if (mungedSpec(obj(pod, 'spec')) !== mungedSpec(obj(old, 'spec'))) {
    errs.push(forbidden('spec', 'pod updates may not change fields other than `spec.containers[*].image`,`spec.initContainers[*].image`,`spec.activeDeadlineSeconds`,`spec.tolerations` (only additions to existing tolerations),`spec.terminationGracePeriodSeconds` (allow it to be set to 1 if it was previously negative)'));
  }
  return errs;
}

/** Convert_v1_PodStatus_To_core_PodStatus and back: podIP and podIPs[0] agree, podIP wins. */
export function normalisePodStatus(status: Obj): Obj {
  const out: Obj = { ...status };
  const podIP = str(status, 'podIP');
  const ips = arr(status, 'podIPs') as Obj[];
  if (podIP !== '' && (ips.length === 0 || str(ips[0], 'ip') !== podIP)) out.podIPs = [{ ip: podIP }];
  else if (podIP === '' && ips.length > 0) out.podIP = str(ips[0], 'ip');
  return out;
}

export function validatePodStatusUpdate(pod: Obj, old: Obj): FieldError[] {
  const errs = validateObjectMetaUpdate(obj(pod, 'metadata') ?? {}, obj(old, 'metadata') ?? {});
  const ips = (arr(obj(pod, 'status'), 'podIPs') as Obj[]).map((p) => str(p, 'ip'));
  ips.forEach((ip, i) => { if (isIP(ip) === 0) errs.push(invalid(`status.podIPs[${i}].ip`, goString(ip), IP_MSG)); });
  if (ips.length > 2) errs.push(invalid('status.podIPs', goRaw(`[${ips.join(' ')}]`), 'may specify no more than two IPs'));
  else if (ips.length === 2 && isIP(ips[0] ?? '') === isIP(ips[1] ?? '')) {
    errs.push(invalid('status.podIPs', goRaw(`[${ips.join(' ')}]`), 'may specify no more than one IP for each IP family'));
  }
  return errs;
}
