// Test support: the cluster state a user has after `kubectl apply -k manifests/`, as far as skein-cp
// reads it: the real MutatingWebhookConfiguration from manifests/webhook-configuration.yaml (no
// caBundle), created through the server's validation like any other write.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parse } from 'yaml';
import { MANIFESTS_DIR } from '../../../manifests/paths.js';
import { MUTATING_WEBHOOK_CONFIGURATIONS } from './kinds.js';
import type { FakeApiServer } from './server.js';
import type { Obj } from './validate-meta.js';

export async function webhookConfigurationManifest(): Promise<Obj> {
  return parse(await readFile(join(MANIFESTS_DIR, 'webhook-configuration.yaml'), 'utf8')) as Obj;
}

export async function applyWebhookConfiguration(api: FakeApiServer): Promise<Obj> {
  return api.seed(MUTATING_WEBHOOK_CONFIGURATIONS, await webhookConfigurationManifest());
}
