// The containers and volumes the injector adds, exactly as docs/contracts.md describes them. Everything
// here is a pure function of the injector config and the pod's validated annotations.
import type { V1Container, V1EnvVar, V1Probe, V1Volume } from '@kubernetes/client-node';
import type { MeshOptions } from './annotations.js';
import {
  CA_CONFIGMAP, CA_DIR, CA_PATH, CP_CA_PATH, HEALTH_PORT_NAME, INIT_CONTAINER_NAME, PORT_ADMIN, PORT_HEALTH, PORT_INBOUND,
  PORT_OUTBOUND, PROXY_CONTAINER_NAME, PROXY_GID, PROXY_UID, TOKEN_AUDIENCE, TOKEN_DIR, TOKEN_EXPIRATION_SECONDS,
  TOKEN_PATH, VOLUME_CA_ROOT, VOLUME_TOKEN, VOLUME_XTABLES_LOCK, WAIT_COMMAND, ANNOTATION_ORIGINAL_PROBES,
} from './constants.js';
import type { InjectorConfig } from './config.js';
import { proxyNodeOptions } from './node-options.js';

const csv = (items: ReadonlyArray<number | string>): string => items.join(',');

export function initArgs(opts: MeshOptions): string[] {
  const inbound = [...new Set([PORT_ADMIN, PORT_HEALTH, ...opts.excludeInboundPorts])].sort((a, b) => a - b);
  const args = [
    'init', '--proxy-uid', String(PROXY_UID), '--proxy-gid', String(PROXY_GID),
    '--outbound-port', String(PORT_OUTBOUND), '--inbound-port', String(PORT_INBOUND),
    '--exclude-inbound-ports', csv(inbound),
  ];
  // The outbound flags appear only when their annotation holds at least one value (contract).
  if (opts.excludeOutboundPorts?.length) args.push('--exclude-outbound-ports', csv(opts.excludeOutboundPorts));
  if (opts.excludeOutboundCidrs?.length) args.push('--exclude-outbound-cidrs', csv(opts.excludeOutboundCidrs));
  return args;
}

/**
 * `skein-init` writes iptables rules into the pod's network namespace. iptables needs CAP_NET_ADMIN and
 * CAP_NET_RAW and, because the kernel checks them against the owner of the network namespace and the
 * binaries check for uid 0, it runs as root. That is the one exception to the `restricted` Pod Security
 * Standard (docs/injector.md); everything else is as tight as for the sidecar. It sets runAsNonRoot: false
 * explicitly so that a pod-level `runAsNonRoot: true` does not stop it.
 */
export function initContainer(cfg: InjectorConfig, opts: MeshOptions): V1Container {
  return {
    name: INIT_CONTAINER_NAME,
    image: cfg.dataplaneImage,
    imagePullPolicy: 'IfNotPresent',
    args: initArgs(opts),
    resources: { requests: { cpu: '10m', memory: '32Mi' }, limits: { cpu: '500m', memory: '128Mi' } },
    securityContext: {
      allowPrivilegeEscalation: false,
      capabilities: { add: ['NET_ADMIN', 'NET_RAW'], drop: ['ALL'] },
      privileged: false,
      readOnlyRootFilesystem: true,
      runAsGroup: 0,
      runAsNonRoot: false,
      runAsUser: 0,
      seccompProfile: { type: 'RuntimeDefault' },
    },
    terminationMessagePolicy: 'FallbackToLogsOnError',
    // iptables takes its lock at /run/xtables.lock; the root filesystem is read-only.
    volumeMounts: [{ name: VOLUME_XTABLES_LOCK, mountPath: '/run' }],
  };
}

function fieldEnv(name: string, fieldPath: string): V1EnvVar {
  return { name, valueFrom: { fieldRef: { apiVersion: 'v1', fieldPath } } };
}

function proxyEnv(cfg: InjectorConfig, opts: MeshOptions): V1EnvVar[] {
  return [
    fieldEnv('POD_NAME', 'metadata.name'),
    fieldEnv('POD_NAMESPACE', 'metadata.namespace'),
    fieldEnv('POD_IP', 'status.podIP'),
    fieldEnv('SERVICE_ACCOUNT', 'spec.serviceAccountName'),
    fieldEnv('NODE_NAME', 'spec.nodeName'),
    fieldEnv('SKEIN_ORIGINAL_PROBES', `metadata.annotations['${ANNOTATION_ORIGINAL_PROBES}']`),
    { name: 'SKEIN_CP_ADDRESS', value: cfg.controlPlaneAddress },
    { name: 'SKEIN_TOKEN_PATH', value: TOKEN_PATH },
    { name: 'SKEIN_CA_PATH', value: CA_PATH },
    { name: 'SKEIN_CP_CA_PATH', value: CP_CA_PATH },
    // V8 sized for a sidecar (node-options.ts); the env, not args, so it also applies in Kubernetes, where
    // the image's entrypoint is skein-dp and the container gives only its arguments.
    { name: 'NODE_OPTIONS', value: proxyNodeOptions(opts.resources) },
  ];
}

const readyProbe = (timing: Omit<V1Probe, 'httpGet'>): V1Probe => ({
  httpGet: { path: '/ready', port: PORT_HEALTH, scheme: 'HTTP' }, ...timing,
});

/**
 * `skein-proxy`: non-root (5678, the UID iptables lets out uncaptured), no capabilities, read-only root,
 * RuntimeDefault seccomp — it passes the `restricted` Pod Security Standard on its own.
 * Native mode: an init container with restartPolicy Always whose startup probe holds back the next init
 * containers and the app until the proxy is ready. Otherwise: the first app container, whose postStart
 * hook holds back the containers after it until the proxy is ready.
 */
export function proxyContainer(cfg: InjectorConfig, opts: MeshOptions): V1Container {
  const args = ['run'];
  if (opts.opaquePorts?.length) args.push('--opaque-ports', csv(opts.opaquePorts));
  if (opts.accessLog) args.push('--access-log', opts.accessLog);
  const container: V1Container = {
    name: PROXY_CONTAINER_NAME,
    image: cfg.dataplaneImage,
    imagePullPolicy: 'IfNotPresent',
    args,
    env: proxyEnv(cfg, opts),
    ports: [{ name: HEALTH_PORT_NAME, containerPort: PORT_HEALTH, protocol: 'TCP' }],
    readinessProbe: readyProbe({ periodSeconds: 2, timeoutSeconds: 1, failureThreshold: 3 }),
    resources: structuredClone(opts.resources),
    securityContext: {
      allowPrivilegeEscalation: false,
      capabilities: { drop: ['ALL'] },
      privileged: false,
      readOnlyRootFilesystem: true,
      runAsGroup: PROXY_GID,
      runAsNonRoot: true,
      runAsUser: PROXY_UID,
      seccompProfile: { type: 'RuntimeDefault' },
    },
    terminationMessagePolicy: 'FallbackToLogsOnError',
    volumeMounts: [
      { name: VOLUME_TOKEN, mountPath: TOKEN_DIR, readOnly: true },
      { name: VOLUME_CA_ROOT, mountPath: CA_DIR, readOnly: true },
    ],
  };
  if (opts.nativeSidecar) {
    container.restartPolicy = 'Always';
    container.startupProbe = readyProbe({ periodSeconds: 1, timeoutSeconds: 1, failureThreshold: 120 });
  } else {
    container.lifecycle = { postStart: { exec: { command: [...WAIT_COMMAND] } } };
  }
  return container;
}

export function meshVolumes(): V1Volume[] {
  return [
    {
      name: VOLUME_TOKEN,
      projected: {
        sources: [{ serviceAccountToken: { audience: TOKEN_AUDIENCE, expirationSeconds: TOKEN_EXPIRATION_SECONDS, path: 'token' } }],
      },
    },
    { name: VOLUME_CA_ROOT, configMap: { name: CA_CONFIGMAP } },
    { name: VOLUME_XTABLES_LOCK, emptyDir: { medium: 'Memory' } },
  ];
}
