// Builders for the few object shapes the suite applies. Plain objects, serialised with `yaml`,
// so each test reads as the pod spec a user would write.
import { stringify } from 'yaml';

export type K8sObject = Record<string, unknown>;

export function namespace(name: string, inject: boolean): K8sObject {
  return {
    apiVersion: 'v1',
    kind: 'Namespace',
    metadata: { name, labels: inject ? { 'skein.io/inject': 'enabled' } : {} },
  };
}

export interface ContainerSpec {
  readonly name: string;
  readonly command: readonly string[];
  readonly env?: Record<string, string>;
  readonly ports?: readonly number[];
}

export interface PodSpec {
  readonly name: string;
  readonly namespace: string;
  readonly labels?: Record<string, string>;
  readonly annotations?: Record<string, string>;
  readonly containers: readonly ContainerSpec[];
}

export function pod(p: PodSpec): K8sObject {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: p.name, namespace: p.namespace, labels: { app: p.name, ...p.labels }, annotations: { ...p.annotations } },
    spec: {
      containers: p.containers.map((c) => ({
        name: c.name,
        // Any image other than skein/dataplane runs its command from the host (skein-local contract).
        image: 'debian:12',
        command: [...c.command],
        env: Object.entries(c.env ?? {}).map(([name, value]) => ({ name, value })),
        ports: (c.ports ?? []).map((containerPort) => ({ containerPort })),
      })),
    },
  };
}

export interface ServicePort {
  readonly name: string;
  readonly port: number;
  readonly targetPort: number;
}

export function service(name: string, ns: string, selector: Record<string, string>, ports: readonly ServicePort[]): K8sObject {
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name, namespace: ns },
    spec: { selector, ports: ports.map((p) => ({ ...p, protocol: 'TCP' })) },
  };
}

export function toYaml(objects: readonly K8sObject[]): string {
  return objects.map((o) => stringify(o)).join('---\n');
}
