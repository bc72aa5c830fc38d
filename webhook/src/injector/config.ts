// What the injector needs to know about the control plane it belongs to. Built by skein-cp's config module
// (webhook/src/config) flags and, in kubernetes mode, the API server version (main.ts); tests build it with
// defaultInjectorConfig.
import { CONTROL_PLANE_NAMESPACE } from '../contract.js';
import { DATAPLANE_IMAGE_REPO, DEFAULT_CP_ADDRESS } from './constants.js';

export interface InjectorConfig {
  /** Version of @skein/webhook: the dataplane image tag and the value of `skein.io/injected`. */
  version: string;
  /** `skein/dataplane:<version>` unless an operator mirrors images elsewhere (--dataplane-image, never a pod annotation). */
  dataplaneImage: string;
  /** host:port of skein-cp's gRPC server, handed to the sidecar as SKEIN_CP_ADDRESS. */
  controlPlaneAddress: string;
  /** The namespace skein-cp runs in (POD_NAMESPACE): never injected, like kube-system and skein-system. */
  controlPlaneNamespace: string;
  /** Whether pods without `skein.io/native-sidecar` get a native sidecar (needs Kubernetes >= 1.29). */
  nativeSidecarDefault: boolean;
  /**
   * Whether run-to-completion pods (restartPolicy Never/OnFailure) without the annotation get a native sidecar
   * even when `nativeSidecarDefault` is false. False when the operator said `--native-sidecar false` or the
   * API server is known to be older than 1.29: there a native sidecar loses `restartPolicy: Always` and
   * blocks the pod forever, whereas a classic one at least lets the Job's work run.
   */
  nativeSidecarRunToCompletion: boolean;
}

/**
 * Non-native sidecars by default: they work on every supported Kubernetes version, and pods opt in to the
 * native mode (which Jobs need to complete) with `skein.io/native-sidecar: "true"`.
 */
export function defaultInjectorConfig(version: string): InjectorConfig {
  return {
    version,
    dataplaneImage: `${DATAPLANE_IMAGE_REPO}:${version}`,
    controlPlaneAddress: DEFAULT_CP_ADDRESS,
    controlPlaneNamespace: CONTROL_PLANE_NAMESPACE,
    nativeSidecarDefault: false,
    nativeSidecarRunToCompletion: true,
  };
}
