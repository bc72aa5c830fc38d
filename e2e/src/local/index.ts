// skein-local: a one-host node (kubelet + kube-proxy + API server) that runs pod specs in network namespaces.
// This barrel is for the e2e suite; it may import every local/** module, nothing imports it back.
export { parseConfig, type LocalConfig } from './config.js';
export { LocalError } from './errors.js';
