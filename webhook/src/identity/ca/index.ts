// The mesh certificate authority of skein-cp: loads (or creates) the CA, signs workload leaves for
// verified identities, keeps the trust anchors published (a file in local mode, ConfigMaps in Kubernetes
// mode). May import ../types, ../errors, ../../kube (client, throttle), ../../config/state-dir, ../../log.
export type { MeshCa } from './mesh-ca.js';
export type { IssuedCertificate } from './leaf.js';
export { MAX_CSR_PEM_BYTES, verifyCsr } from './csr.js';
export { startLocalMeshCa, MESH_CA_DIR, TRUST_BUNDLE_FILE, type LocalMeshCaOptions } from './local.js';
export { startKubeMeshCa, CA_SECRET_NAME, type KubeMeshCa, type KubeMeshCaOptions } from './kube.js';
export {
  startCaRootPublisher, listInjectedNamespaces, injectedNamespacesOf, CA_ROOT_CONFIGMAP, KEY_ROOT_CERT, KEY_CONTROL_PLANE_CA,
  type CaRootPublisher, type CaRootPublisherOptions,
} from './publisher.js';
export { KEY_CA_CRT, KEY_EXTRA_ROOTS, KEY_TLS_CRT, KEY_TLS_KEY } from './material.js';
