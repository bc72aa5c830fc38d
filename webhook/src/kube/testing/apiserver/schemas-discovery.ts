// Decode schemas (go-json.ts) of the kinds skein-cp's discovery watches: v1 Pod, Service, Namespace,
// discovery.k8s.io/v1 EndpointSlice (k8s.io/api core/v1 and discovery/v1 types.go) and the Mesh custom
// resource. Every field of the structs a test writes is listed (a correct object triggers no "unknown
// field" warning); deep sub-structures no discovery test exercises (probes, volumes, affinity, security
// contexts, resources, ...) are decoded as raw JSON: their contents are neither typed nor flagged.
import { S } from './go-json.js';
import { OBJECT_META } from './schemas.js';

const typeMeta = { apiVersion: S.string, kind: S.string };
/** intstr.IntOrString: a number or a string (typed by the validation, not the decoder here). */
const intOrString = S.raw;

const containerPort = S.struct('v1.ContainerPort', {
  name: S.string, hostPort: S.int32, containerPort: S.int32, protocol: S.string, hostIP: S.string,
});

const container = S.struct('v1.Container', {
  name: S.string, image: S.string, command: S.array(S.string), args: S.array(S.string), workingDir: S.string,
  ports: S.array(containerPort), envFrom: S.raw, env: S.raw, resources: S.raw, resizePolicy: S.raw,
  restartPolicy: S.string, restartPolicyRules: S.raw, volumeMounts: S.raw, volumeDevices: S.raw, livenessProbe: S.raw,
  readinessProbe: S.raw, startupProbe: S.raw, lifecycle: S.raw, terminationMessagePath: S.string,
  terminationMessagePolicy: S.string, imagePullPolicy: S.string, securityContext: S.raw, stdin: S.bool,
  stdinOnce: S.bool, tty: S.bool,
});

export const POD = S.struct('v1.Pod', {
  ...typeMeta,
  metadata: OBJECT_META,
  spec: S.struct('v1.PodSpec', {
    volumes: S.raw, initContainers: S.array(container), containers: S.array(container), ephemeralContainers: S.raw,
    restartPolicy: S.string, terminationGracePeriodSeconds: S.int64, activeDeadlineSeconds: S.int64, dnsPolicy: S.string,
    nodeSelector: S.map(S.string), serviceAccountName: S.string, serviceAccount: S.string, automountServiceAccountToken: S.bool,
    nodeName: S.string, hostNetwork: S.bool, hostPID: S.bool, hostIPC: S.bool, shareProcessNamespace: S.bool,
    securityContext: S.raw, imagePullSecrets: S.raw, hostname: S.string, subdomain: S.string, affinity: S.raw,
    schedulerName: S.string, tolerations: S.raw, hostAliases: S.raw, priorityClassName: S.string, priority: S.int32,
    dnsConfig: S.raw, readinessGates: S.raw, runtimeClassName: S.string, enableServiceLinks: S.bool,
    preemptionPolicy: S.string, overhead: S.raw, topologySpreadConstraints: S.raw, setHostnameAsFQDN: S.bool,
    os: S.raw, hostUsers: S.bool, schedulingGates: S.raw, resourceClaims: S.raw, resources: S.raw, hostnameOverride: S.string,
  }),
  status: S.struct('v1.PodStatus', {
    observedGeneration: S.int64, phase: S.string, conditions: S.raw, message: S.string, reason: S.string,
    nominatedNodeName: S.string, hostIP: S.string, hostIPs: S.array(S.struct('v1.HostIP', { ip: S.string })),
    podIP: S.string, podIPs: S.array(S.struct('v1.PodIP', { ip: S.string })), startTime: S.time,
    initContainerStatuses: S.raw, containerStatuses: S.raw, qosClass: S.string, ephemeralContainerStatuses: S.raw,
    resize: S.string, resourceClaimStatuses: S.raw, extendedResourceClaimStatus: S.raw,
  }),
});

const servicePort = S.struct('v1.ServicePort', {
  name: S.string, protocol: S.string, appProtocol: S.string, port: S.int32, targetPort: intOrString, nodePort: S.int32,
});

export const SERVICE = S.struct('v1.Service', {
  ...typeMeta,
  metadata: OBJECT_META,
  spec: S.struct('v1.ServiceSpec', {
    ports: S.array(servicePort), selector: S.map(S.string), clusterIP: S.string, clusterIPs: S.array(S.string),
    type: S.string, externalIPs: S.array(S.string), sessionAffinity: S.string, loadBalancerIP: S.string,
    loadBalancerSourceRanges: S.array(S.string), externalName: S.string, externalTrafficPolicy: S.string,
    healthCheckNodePort: S.int32, publishNotReadyAddresses: S.bool, sessionAffinityConfig: S.raw,
    ipFamilies: S.array(S.string), ipFamilyPolicy: S.string, allocateLoadBalancerNodePorts: S.bool,
    loadBalancerClass: S.string, internalTrafficPolicy: S.string, trafficDistribution: S.string,
  }),
  status: S.struct('v1.ServiceStatus', { loadBalancer: S.raw, conditions: S.raw }),
});

export const NAMESPACE = S.struct('v1.Namespace', {
  ...typeMeta,
  metadata: OBJECT_META,
  spec: S.struct('v1.NamespaceSpec', { finalizers: S.array(S.string) }),
  status: S.struct('v1.NamespaceStatus', { phase: S.string, conditions: S.raw }),
});

export const ENDPOINT_SLICE = S.struct('v1.EndpointSlice', {
  ...typeMeta,
  metadata: OBJECT_META,
  addressType: S.string,
  endpoints: S.array(S.struct('v1.Endpoint', {
    addresses: S.array(S.string),
    conditions: S.struct('v1.EndpointConditions', { ready: S.bool, serving: S.bool, terminating: S.bool }),
    hostname: S.string,
    targetRef: S.struct('v1.ObjectReference', {
      kind: S.string, namespace: S.string, name: S.string, uid: S.string, apiVersion: S.string, resourceVersion: S.string, fieldPath: S.string,
    }),
    deprecatedTopology: S.map(S.string), nodeName: S.string, zone: S.string, hints: S.raw,
  })),
  ports: S.array(S.struct('v1.EndpointPort', { name: S.string, protocol: S.string, port: S.int32, appProtocol: S.string })),
});

/** A custom resource: typed metadata, the rest is JSON the CRD's structural schema prunes (crd.ts). */
export const CUSTOM_RESOURCE = S.struct('unstructured.Unstructured', { ...typeMeta, metadata: OBJECT_META, spec: S.raw, status: S.raw });
