// A typical pod AdmissionReview (admission.k8s.io/v1 CREATE of a Deployment's pod with ports, probes,
// resources and a service account), used by the admission benchmark and the skein-cp process tests.
import { reviewObject } from '../admission/testing/review.js';

export function typicalPodReview(uid: string): Record<string, unknown> {
  const pod = {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      generateName: 'productpage-v1-6b746f74dc-',
      namespace: 'shop',
      labels: { app: 'productpage', version: 'v1', 'pod-template-hash': '6b746f74dc' },
      annotations: { 'prometheus.io/scrape': 'true', 'prometheus.io/port': '9080' },
      ownerReferences: [{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: 'productpage-v1-6b746f74dc', uid: '6f1c5a1e-6a53-4c38-9d4e-1d2a4f0c6b11', controller: true, blockOwnerDeletion: true }],
    },
    spec: {
      serviceAccountName: 'bookinfo-productpage',
      containers: [{
        name: 'productpage',
        image: 'docker.io/istio/examples-bookinfo-productpage-v1:1.20.2',
        imagePullPolicy: 'IfNotPresent',
        ports: [{ name: 'http', containerPort: 9080, protocol: 'TCP' }],
        env: [{ name: 'LOG_LEVEL', value: 'info' }],
        resources: { requests: { cpu: '100m', memory: '128Mi' }, limits: { memory: '256Mi' } },
        readinessProbe: { httpGet: { path: '/health', port: 'http' }, periodSeconds: 5 },
        livenessProbe: { httpGet: { path: '/health', port: 9080 }, initialDelaySeconds: 10 },
        volumeMounts: [{ name: 'tmp', mountPath: '/tmp' }, { name: 'kube-api-access-x', mountPath: '/var/run/secrets/kubernetes.io/serviceaccount', readOnly: true }],
        securityContext: { runAsUser: 1000, allowPrivilegeEscalation: false },
      }],
      volumes: [
        { name: 'tmp', emptyDir: {} },
        { name: 'kube-api-access-x', projected: { sources: [{ serviceAccountToken: { path: 'token', expirationSeconds: 3607 } }] } },
      ],
      restartPolicy: 'Always',
      dnsPolicy: 'ClusterFirst',
      terminationGracePeriodSeconds: 30,
    },
  };
  return reviewObject(uid, { object: pod, namespace: 'shop' });
}
