// The connection to skein-cp's gRPC server (SKEIN_CP_ADDRESS) over TLS. skein-cp's certificate is verified
// against SKEIN_CP_CA_PATH, read again for every new client (it changes when skein-cp's CA is rotated), and
// must name the host part of the address (grpc-js checks it against the target). Every Certify call and
// every Watch stream gets a fresh client that is closed afterwards: there is no long-lived channel whose
// credentials could go stale. Loaded only when SKEIN_CP_ADDRESS is set (grpc-js costs ~60 ms of start).
import { readFile } from 'node:fs/promises';
import { credentials, type ChannelOptions } from '@grpc/grpc-js';
import { DiscoveryClient, IdentityClient } from '@skein/api';

export interface ControlPlaneSettings {
  /** host:port */
  address: string;
  /** PEM of the CA that signed skein-cp's serving certificate. */
  cpCaPath: string;
  /** The projected service account token, read on every call (kubelet rotates it). */
  tokenPath: string;
}

const CHANNEL_OPTIONS: ChannelOptions = {
  // A Watch stream is idle between snapshots: pings find a dead skein-cp (or a dropped NAT entry) within
  // ~40 s instead of at the next TCP retransmission timeout. grpc-js servers accept pings on open streams.
  'grpc.keepalive_time_ms': 30_000,
  'grpc.keepalive_timeout_ms': 10_000,
  // Snapshots of a large mesh are bigger than grpc's 4 MiB default.
  'grpc.max_receive_message_length': 64 * 1024 * 1024,
};

export class ControlPlane {
  constructor(readonly settings: ControlPlaneSettings) {}

  async identityClient(): Promise<IdentityClient> {
    return new IdentityClient(this.settings.address, await this.credentials(), CHANNEL_OPTIONS);
  }

  async discoveryClient(): Promise<DiscoveryClient> {
    return new DiscoveryClient(this.settings.address, await this.credentials(), CHANNEL_OPTIONS);
  }

  /** The token, trimmed; throws with the path when it is missing or empty (kubelet not done yet). */
  async token(): Promise<string> {
    const token = (await readFile(this.settings.tokenPath, 'utf8')).trim();
    if (token === '') throw new Error(`the token file ${this.settings.tokenPath} is empty`);
    return token;
  }

  private async credentials(): Promise<ReturnType<typeof credentials.createSsl>> {
    let ca: Buffer;
    try {
      ca = await readFile(this.settings.cpCaPath);
    } catch (err) {
      throw new Error(`cannot read skein-cp's CA at ${this.settings.cpCaPath} (SKEIN_CP_CA_PATH): ${(err as Error).message}`, { cause: err });
    }
    if (!ca.includes('-----BEGIN CERTIFICATE-----')) {
      throw new Error(`${this.settings.cpCaPath} (SKEIN_CP_CA_PATH) holds no PEM certificate`);
    }
    return credentials.createSsl(ca);
  }
}
