// A grpc-js CertificateProvider fed from memory, so the gRPC listener picks up a rotated serving
// certificate the same way the HTTPS listener does (grpc-js calls setSecureContext on its http2 server).
// grpc-js exposes this under `experimental`; it is the only way to rotate without rebinding the port.
import type { experimental } from '@grpc/grpc-js';
import type { ServingMaterial } from './material.js';

type IdentityListener = experimental.IdentityCertificateUpdateListener;
type CaListener = experimental.CaCertificateUpdateListener;

export class ServingCertProvider implements experimental.CertificateProvider {
  private readonly identityListeners = new Set<IdentityListener>();
  private material: ServingMaterial;

  constructor(initial: ServingMaterial) {
    this.material = initial;
  }

  update(next: ServingMaterial): void {
    this.material = next;
    for (const l of this.identityListeners) l(this.identityUpdate());
  }

  private identityUpdate(): experimental.IdentityCertificateUpdate {
    return { certificate: Buffer.from(this.material.certPem), privateKey: Buffer.from(this.material.keyPem) };
  }

  addIdentityCertificateListener(listener: IdentityListener): void {
    this.identityListeners.add(listener);
    // Deliver asynchronously: grpc-js registers its server watcher only after this call returns, so a
    // synchronous first update would be lost and the server would drop every connection ("unloaded
    // credentials") until the first rotation.
    queueMicrotask(() => {
      if (this.identityListeners.has(listener)) listener(this.identityUpdate());
    });
  }

  removeIdentityCertificateListener(listener: IdentityListener): void {
    this.identityListeners.delete(listener);
  }

  // Clients are not asked for certificates on this port (they authenticate with a token), so no CA.
  addCaCertificateListener(listener: CaListener): void {
    queueMicrotask(() => listener(null));
  }

  removeCaCertificateListener(_listener: CaListener): void {}
}
