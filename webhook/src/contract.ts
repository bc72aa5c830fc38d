// The control plane's names and numbers fixed by DESIGN.md ("Names and numbers"): written once here and
// imported by the config (default ports), TLS (serving certificate names), the injector (control plane
// address, namespaces it never touches), main and the admission app. Plain constants with no imports, so
// every folder of the workspace may import this module.

/** Namespace the control plane runs in (POD_NAMESPACE overrides it at run time). */
export const CONTROL_PLANE_NAMESPACE = 'skein-system';
/** Name of the control plane's Service (and Deployment): the serving certificate's DNS names start with it. */
export const CONTROL_PLANE_SERVICE = 'skein-cp';

export const WEBHOOK_PORT = 9443;
export const WEBHOOK_PATH = '/inject';
export const GRPC_PORT = 15012;
export const HEALTH_PORT = 15014;

/** host:port of the gRPC server as a sidecar dials it (SKEIN_CP_ADDRESS): the Service, which maps 15012 to 15012. */
export function controlPlaneAddress(namespace: string = CONTROL_PLANE_NAMESPACE): string {
  return `${CONTROL_PLANE_SERVICE}.${namespace}.svc:${GRPC_PORT}`;
}
