// Placeholder until the Certify and Watch clients land (dp-identity, issue 8).
import type { Logger } from 'pino';
import type { RunConfig } from '../config/index.js';
import type { Metrics } from '../metrics/index.js';
import type { MeshClient } from './index.js';

export function startMeshClientNow(_opts: { config: RunConfig; log: Logger; metrics: Metrics }): Promise<MeshClient> {
  return Promise.reject(new Error('the mesh client is not written yet'));
}
