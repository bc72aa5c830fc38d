// A Service's cluster IPs as the API server sets them (pure): spec.ipFamilyPolicy, spec.ipFamilies,
// spec.clusterIPs and spec.clusterIP. Like a dual-stack Kubernetes cluster whose first family is IPv4:
// without ipFamilyPolicy a Service is SingleStack with the first of its ipFamilies (else IPv4);
// PreferDualStack gets both families where the node has IPv6 ranges, RequireDualStack insists on it.
// The primary family and its address are immutable; a secondary one may be added or dropped. On
// update, ipFamilyPolicy and ipFamilies left out keep their stored values.
import { InvalidError } from '../errors.js';
import type { Service } from '../model/types.js';
import { allocate, canonicalIp, contains, familyOf, type Cidr, type Family } from '../network/cidr.js';

export type IpFamily = 'IPv4' | 'IPv6';
export type IpFamilyPolicy = 'SingleStack' | 'PreferDualStack' | 'RequireDualStack';

export interface ServiceRanges { serviceCidr: Cidr; serviceCidr6?: Cidr }

const NUM: Record<IpFamily, Family> = { IPv4: 4, IPv6: 6 };
const NAME: Record<Family, IpFamily> = { 4: 'IPv4', 6: 'IPv6' };
const POLICIES: readonly string[] = ['SingleStack', 'PreferDualStack', 'RequireDualStack'];

export interface ClusterIPs { clusterIP: string; clusterIPs: string[]; ipFamilies: IpFamily[]; ipFamilyPolicy: IpFamilyPolicy }

/**
 * The fields to store for `s` (`prev`: the stored version, if any). `used`: cluster IPs of every other
 * Service, canonical. Throws InvalidError naming the Service and the field.
 */
export function clusterIPsFor(s: Service, prev: Service | undefined, ranges: ServiceRanges, used: ReadonlySet<string>): ClusterIPs {
  const what = `service "${s.metadata.name}"`;
  const spec = s.spec;
  const policy = spec.ipFamilyPolicy as string | undefined;
  if (policy !== undefined && !POLICIES.includes(policy)) {
    throw new InvalidError(`${what}: spec.ipFamilyPolicy "${policy}" is not one of ${POLICIES.join(', ')}`);
  }
  // On update, fields left out keep their stored values (as the API server does for a PUT).
  const askedFamilies = (spec.ipFamilies as string[] | undefined) ?? (policy === undefined ? (prev?.spec.ipFamilies as string[] | undefined) : undefined) ?? [];
  for (const f of askedFamilies) if (f !== 'IPv4' && f !== 'IPv6') throw new InvalidError(`${what}: spec.ipFamilies: "${f}" is not IPv4 or IPv6`);
  if (new Set(askedFamilies).size !== askedFamilies.length || askedFamilies.length > 2) {
    throw new InvalidError(`${what}: spec.ipFamilies ${JSON.stringify(askedFamilies)}: list each family at most once`);
  }
  const asked = askedIps(s, what);
  const storedPolicy = prev?.spec.ipFamilyPolicy as IpFamilyPolicy | undefined;
  if (policy === undefined && !storedPolicy && (askedFamilies.length > 1 || asked.length > 1)) {
    throw new InvalidError(`${what}: two IP families are given: set spec.ipFamilyPolicy to PreferDualStack or RequireDualStack`);
  }
  const headless = asked[0] === 'None';
  const prevIps = prev && prev.spec.clusterIP !== 'None' ? ((prev.spec.clusterIPs as string[] | undefined) ?? [prev.spec.clusterIP].filter((x): x is string => !!x)) : [];
  const first: IpFamily = (askedFamilies[0] as IpFamily | undefined) ??
    (asked[0] && !headless ? NAME[familyOf(asked[0])] : undefined) ?? (prevIps[0] ? NAME[familyOf(prevIps[0])] : 'IPv4');
  const dual = !!ranges.serviceCidr6;
  const effective: IpFamilyPolicy = (policy as IpFamilyPolicy | undefined) ?? storedPolicy ?? 'SingleStack';
  if (effective === 'RequireDualStack' && !dual) {
    throw new InvalidError(`${what}: ipFamilyPolicy RequireDualStack, but this node is IPv4 only: start skein-local with IPv6 ranges too ` +
      '(--pod-cidr 10.244.0.0/16,fd00:10:244::/64 --service-cidr 10.96.0.0/16,fd00:10:96::/108) or use PreferDualStack');
  }
  if (first === 'IPv6' && !dual) throw new InvalidError(`${what}: IPv6 was asked for, but this node has no IPv6 service range (--service-cidr v4,v6)`);
  const families: IpFamily[] = effective === 'SingleStack' || !dual ? [first] : [first, first === 'IPv4' ? 'IPv6' : 'IPv4'];
  if (askedFamilies[1] && families[1] !== askedFamilies[1]) {
    throw new InvalidError(`${what}: spec.ipFamilies ${JSON.stringify(askedFamilies)} cannot be served by this node`);
  }
  if (prevIps[0] && familyOf(prevIps[0]) !== NUM[first]) {
    throw new InvalidError(`${what}: the primary IP family is immutable (${NAME[familyOf(prevIps[0])]}): delete the Service first`);
  }
  if (headless) return { clusterIP: 'None', clusterIPs: ['None'], ipFamilies: families, ipFamilyPolicy: effective };
  const ips = families.map((f) => {
    const range = f === 'IPv4' ? ranges.serviceCidr : ranges.serviceCidr6!;
    const given = asked.find((ip) => familyOf(ip) === NUM[f]);
    const kept = prevIps.find((ip) => familyOf(ip) === NUM[f]);
    if (given && kept && given !== kept) throw new InvalidError(`${what}: spec.clusterIP is immutable (${kept})`);
    if (given && !kept) {
      if (!contains(range, given)) throw new InvalidError(`${what}: cluster IP ${given} is not in the service range ${range.text}`);
      if (used.has(given)) throw new InvalidError(`${what}: cluster IP ${given} is already allocated to another Service`);
    }
    const ip = given ?? kept ?? allocate(range, used);
    if (!ip) throw new InvalidError(`no free Service address left in ${range.text}`);
    return ip;
  });
  return { clusterIP: ips[0]!, clusterIPs: ips, ipFamilies: families, ipFamilyPolicy: effective };
}

/** spec.clusterIPs (or spec.clusterIP), canonical, checked for agreement and distinct families. */
function askedIps(s: Service, what: string): string[] {
  const one = s.spec.clusterIP;
  const list = (s.spec.clusterIPs as string[] | undefined) ?? (one ? [one] : []);
  if (one && list[0] !== one) throw new InvalidError(`${what}: spec.clusterIP ${one} must be the first of spec.clusterIPs ${JSON.stringify(list)}`);
  if (list[0] === 'None') {
    if (list.length > 1) throw new InvalidError(`${what}: a headless Service (clusterIP None) has no other cluster IP`);
    return ['None'];
  }
  const out = list.map((ip) => {
    try {
      return canonicalIp(ip);
    } catch {
      throw new InvalidError(`${what}: spec.clusterIPs: "${ip}" is not an IP address`);
    }
  });
  if (out.length > 2 || (out.length === 2 && familyOf(out[0]!) === familyOf(out[1]!))) {
    throw new InvalidError(`${what}: spec.clusterIPs ${JSON.stringify(list)}: at most one address per family`);
  }
  return out;
}
