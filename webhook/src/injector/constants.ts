// Names and numbers the injector writes into a pod. They are the contract of DESIGN.md and docs/contracts.md:
// skein-dp and skein-local read them, so change them only together with both. The control plane's own names
// come from ../contract.js.
import { CONTROL_PLANE_NAMESPACE, controlPlaneAddress } from '../contract.js';

export const INIT_CONTAINER_NAME = 'skein-init';
export const PROXY_CONTAINER_NAME = 'skein-proxy';

export const PROXY_UID = 5678;
export const PROXY_GID = 5678;

export const PORT_ADMIN = 15000;
export const PORT_OUTBOUND = 15001;
export const PORT_INBOUND = 15006;
export const PORT_HEALTH = 15020;
/** Ports the sidecar binds inside the pod's network namespace; an app container may not declare them. */
export const MESH_PORTS: readonly number[] = [PORT_ADMIN, PORT_OUTBOUND, PORT_INBOUND, PORT_HEALTH];
export const HEALTH_PORT_NAME = 'skein-health';

export const VOLUME_TOKEN = 'skein-token';
export const VOLUME_CA_ROOT = 'skein-ca-root';
export const VOLUME_XTABLES_LOCK = 'skein-xtables-lock';
export const RESERVED_VOLUMES: readonly string[] = [VOLUME_TOKEN, VOLUME_CA_ROOT, VOLUME_XTABLES_LOCK];

export const TOKEN_AUDIENCE = 'skein-cp';
export const TOKEN_EXPIRATION_SECONDS = 3600;
export const TOKEN_DIR = '/var/run/secrets/skein/token';
export const TOKEN_PATH = `${TOKEN_DIR}/token`;
export const CA_CONFIGMAP = 'skein-ca-root';
export const CA_KEY = 'root-cert.pem';
export const CA_DIR = '/var/run/secrets/skein/ca';
export const CA_PATH = `${CA_DIR}/${CA_KEY}`;
/** Key of skein-ca-root holding the CA of skein-cp's serving certificate: the sidecar verifies skein-cp with it. */
export const CP_CA_KEY = 'control-plane-ca.pem';
export const CP_CA_PATH = `${CA_DIR}/${CP_CA_KEY}`;

export const DEFAULT_CP_ADDRESS = controlPlaneAddress();
export const DATAPLANE_IMAGE_REPO = 'skein/dataplane';

/** Namespaces the webhook never injects into, whatever the selectors say (second line of defence). */
export const SYSTEM_NAMESPACES: readonly string[] = ['kube-system', CONTROL_PLANE_NAMESPACE];

export const LABEL_INJECT = 'skein.io/inject';
export const ANNOTATION_INJECTED = 'skein.io/injected';
export const ANNOTATION_ORIGINAL_PROBES = 'skein.io/original-probes';
export const ANNOTATION_NATIVE_SIDECAR = 'skein.io/native-sidecar';
export const ANNOTATION_OPAQUE_PORTS = 'skein.io/opaque-ports';
export const ANNOTATION_ACCESS_LOG = 'skein.io/access-log';
export const ANNOTATION_EXCLUDE_INBOUND_PORTS = 'traffic.skein.io/exclude-inbound-ports';
export const ANNOTATION_EXCLUDE_OUTBOUND_PORTS = 'traffic.skein.io/exclude-outbound-ports';
export const ANNOTATION_EXCLUDE_OUTBOUND_CIDRS = 'traffic.skein.io/exclude-outbound-cidrs';
export const ANNOTATION_PROXY_CPU_REQUEST = 'skein.io/proxy-cpu-request';
export const ANNOTATION_PROXY_MEMORY_REQUEST = 'skein.io/proxy-memory-request';
export const ANNOTATION_PROXY_CPU_LIMIT = 'skein.io/proxy-cpu-limit';
export const ANNOTATION_PROXY_MEMORY_LIMIT = 'skein.io/proxy-memory-limit';
/** Which container `kubectl logs/exec` pick without -c; the classic sidecar would otherwise be the first. */
export const ANNOTATION_DEFAULT_CONTAINER = 'kubectl.kubernetes.io/default-container';
/** Static (mirror) pods are owned by the kubelet; the API server keeps them as they are. */
export const ANNOTATION_MIRROR = 'kubernetes.io/config.mirror';

/** postStart hook of the non-native sidecar: app containers start only once the proxy is ready. */
export const WAIT_COMMAND: readonly string[] = ['skein-dp', 'wait', '--timeout', '120s'];
