// kube-proxy's job plus cluster DNS: keeps our nat chains and every pod's /etc/hosts in step with
// Services and ready pods. Changes are coalesced and applied one sync at a time.
import type { LocalConfig } from '../config.js';
import type { Logger } from '../log.js';
import type { Pod, Service } from '../model/types.js';
import { renderHosts, type ServiceName } from '../network/hosts.js';
import { applyServiceRules } from '../network/host-net.js';
import type { ServiceRule } from '../network/iptables-render.js';
import { writePodHosts } from '../network/pod-net.js';
import type { Store } from '../store/store.js';
import { clusterIPsOf, serviceRules } from './endpoints.js';
import { endpointSlicesFor, MANAGED_BY, MANAGED_BY_LABEL, type EndpointSlice } from './endpoint-slices.js';

export interface PodHostsTarget { pod: Pod; ip: string; ip6?: string; netns: string }

export class ServiceController {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> = Promise.resolve();
  private lastRules = '';
  private readonly lastHosts = new Map<string, string>();
  /** Services whose endpoints are host ports rather than pods (skein-cp on loopback). */
  private readonly extra = new Map<string, ServiceRule[]>();

  constructor(private readonly cfg: LocalConfig, private readonly store: Store, private readonly log: Logger,
    private readonly targets: () => PodHostsTarget[]) {}

  setExtraRules(key: string, rules: ServiceRule[]): void {
    this.extra.set(key, rules);
    this.schedule();
  }

  schedule(): void {
    if (this.timer) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.running = this.running.then(() => this.sync()).catch((err: Error) => this.log.error({ err: err.message }, 'service sync failed'));
    }, 30);
  }

  /** Resolves once every change scheduled so far is applied. */
  async settle(): Promise<void> {
    while (this.timer) await new Promise((r) => setTimeout(r, 10));
    await this.running;
  }

  /** `ip6`: the pod's IPv6 address on a dual-stack node. */
  hostsFor(pod: Pod, ip: string, ip6?: string): string {
    return renderHosts({ name: pod.metadata.name!, namespace: pod.metadata.namespace ?? 'default', hostname: pod.spec.hostname, ip, ip6 }, this.names());
  }

  private names(): ServiceName[] {
    return this.store.list<Service>('Service')
      .map((s) => ({ name: s.metadata.name!, namespace: s.metadata.namespace ?? 'default', ips: clusterIPsOf(s) }))
      .filter((s) => s.ips.length > 0);
  }

  /** The endpointslice controller's job: our slices follow Services and pods; user-made slices are left alone. */
  private syncEndpointSlices(): void {
    const pods = this.store.list<Pod>('Pod');
    const want = new Map<string, EndpointSlice>();
    for (const s of this.store.list<Service>('Service')) {
      for (const slice of endpointSlicesFor(s, pods)) want.set(`${slice.metadata.namespace}/${slice.metadata.name}`, slice);
    }
    const content = (o: EndpointSlice): string => JSON.stringify([o.metadata.labels, o.metadata.ownerReferences, o.addressType, o.endpoints, o.ports]);
    for (const have of this.store.list<EndpointSlice>('EndpointSlice')) {
      if (have.metadata.labels?.[MANAGED_BY_LABEL] !== MANAGED_BY) continue;
      const key = `${have.metadata.namespace}/${have.metadata.name}`;
      const next = want.get(key);
      if (!next) this.store.delete('EndpointSlice', have.metadata.namespace, have.metadata.name!);
      else if (content(next) === content(have)) want.delete(key);
    }
    for (const slice of want.values()) this.store.put(slice);
  }

  private async sync(): Promise<void> {
    this.syncEndpointSlices();
    const rules = [...[...this.extra.values()].flat(), ...serviceRules(this.store.list<Service>('Service'), this.store.list<Pod>('Pod'))];
    const text = JSON.stringify(rules);
    if (text !== this.lastRules) {
      await applyServiceRules(this.cfg, rules);
      this.lastRules = text;
      this.log.info({ services: rules.length, endpoints: rules.reduce((n, r) => n + r.endpoints.length, 0) }, 'service rules applied');
    }
    const live = new Set<string>();
    for (const t of this.targets()) {
      live.add(t.netns);
      const hosts = this.hostsFor(t.pod, t.ip, t.ip6);
      if (this.lastHosts.get(t.netns) === hosts) continue;
      try {
        await writePodHosts(t.netns, hosts);
        this.lastHosts.set(t.netns, hosts);
      } catch {
        // The pod's network is not created yet or already gone; its worker writes hosts at creation.
      }
    }
    for (const k of this.lastHosts.keys()) if (!live.has(k)) this.lastHosts.delete(k);
  }
}
