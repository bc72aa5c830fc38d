// Public surface of @skein/dataplane for other workspaces (e2e, bench): start a proxy in-process, parse
// its configuration, and the pure protocol sniffer. May import any dataplane module except init/ and
// transport/orig-dst (both load native code; reach them through `skein-dp init` / the resolver).
export { startProxy, type RunningProxy, type Addresses, type StartOptions } from './lifecycle/run.js';
export { waitUntilReady } from './lifecycle/wait.js';
export { parseRunConfig, parseWaitConfig, DEFAULT_OPAQUE_PORTS, DEFAULT_PORTS, type RunConfig, type WaitConfig } from './config/index.js';
export { createLogControl, type LogControl } from './log/index.js';
export { fixedResolver, loadOrigDstResolver, type Destination, type OrigDstResolver } from './transport/resolver.js';
export { sniff, H2_PREFACE } from './detect/index.js';
export { SkeinError, ConfigError } from './errors.js';
