// Optional: a bound token is honoured only when the request comes from its own pod's address. A token
// copied out of a pod (logs, a debug shell, a node backup) then cannot be spent elsewhere while it is
// still valid. Off by default: it holds only where skein-cp sees pod source addresses unchanged (no
// SNAT between pods and skein-cp: skein-local, and most CNIs without masquerading to Service IPs).
import { isIP } from 'node:net';
import { CertifyRefusal } from '../errors.js';
import type { PodLookup, WorkloadIdentity } from '../types.js';

/** grpc-js getPeer(): "10.0.0.5:41234", "::1:41234" (IPv6 unbracketed), "unknown". */
export function peerAddress(peer: string): string | undefined {
  const m = /^\[?(.*?)\]?:(\d+)$/.exec(peer);
  const host = (m?.[1] ?? peer).replace(/^::ffff:(?=\d+\.\d+\.\d+\.\d+$)/i, '');
  return isIP(host) !== 0 ? host.toLowerCase() : undefined;
}

export async function checkPeerIsPod(pods: PodLookup, identity: WorkloadIdentity, peer: string): Promise<void> {
  if (identity.pod === undefined) return;
  const where = `${identity.namespace}/${identity.pod.name}`;
  const found = await pods(identity.namespace, identity.pod.name);
  if (found === undefined) throw new CertifyRefusal('unknown_pod', `the token is bound to pod ${where}, which does not exist`);
  const ip = peerAddress(peer);
  if (ip === undefined || !found.podIPs.map((a) => a.toLowerCase()).includes(ip)) {
    throw new CertifyRefusal('unknown_pod', `the request comes from ${ip ?? peer}, not from pod ${where} (${found.podIPs.join(', ') || 'no IP yet'}): a token is honoured only from its own pod`);
  }
}
