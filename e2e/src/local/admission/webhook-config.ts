// Reads the MutatingWebhookConfiguration from manifests/webhook-configuration.yaml and picks the entry
// (if any) that applies to a pod, evaluating rules and selectors the way the API server does.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { AdmissionError } from '../errors.js';
import type { LabelSelector } from '../model/types.js';
import { matchesSelector } from './selectors.js';

export interface WebhookEntry {
  name: string;
  namespaceSelector?: LabelSelector;
  objectSelector?: LabelSelector;
  failurePolicy: 'Fail' | 'Ignore';
  timeoutSeconds: number;
  path: string;
  rules: { operations?: string[]; resources?: string[]; apiGroups?: string[] }[];
}

interface RawWebhook {
  name: string;
  namespaceSelector?: LabelSelector;
  objectSelector?: LabelSelector;
  failurePolicy?: string;
  timeoutSeconds?: number;
  clientConfig?: { service?: { path?: string }; url?: string };
  rules?: WebhookEntry['rules'];
}

export function webhookConfigPath(repoRoot: string): string {
  return join(repoRoot, 'manifests', 'webhook-configuration.yaml');
}

export async function loadWebhookEntries(repoRoot: string): Promise<WebhookEntry[]> {
  const file = webhookConfigPath(repoRoot);
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch {
    throw new AdmissionError(`${file} not found: skein-local needs the MutatingWebhookConfiguration to decide which pods go to skein-cp`);
  }
  return parseWebhookEntries(text, file);
}

export function parseWebhookEntries(text: string, file: string): WebhookEntry[] {
  const out: WebhookEntry[] = [];
  for (const doc of parseAllDocuments(text)) {
    const obj = doc.toJS() as { kind?: string; webhooks?: RawWebhook[] } | null;
    if (obj?.kind !== 'MutatingWebhookConfiguration') continue;
    for (const w of obj.webhooks ?? []) {
      out.push({
        name: w.name,
        namespaceSelector: w.namespaceSelector,
        objectSelector: w.objectSelector,
        failurePolicy: w.failurePolicy === 'Ignore' ? 'Ignore' : 'Fail',
        timeoutSeconds: w.timeoutSeconds ?? 10,
        path: w.clientConfig?.service?.path ?? '/inject',
        rules: w.rules ?? [],
      });
    }
  }
  if (out.length === 0) throw new AdmissionError(`${file}: no MutatingWebhookConfiguration with webhooks found`);
  return out;
}

function ruleCoversPodCreate(rules: WebhookEntry['rules']): boolean {
  if (rules.length === 0) return true;
  return rules.some((r) =>
    (r.operations ?? ['*']).some((o) => o === 'CREATE' || o === '*') &&
    (r.resources ?? ['*']).some((x) => x === 'pods' || x === '*') &&
    (r.apiGroups ?? ['']).some((g) => g === '' || g === '*'));
}

/** The first entry whose rules, namespaceSelector and objectSelector match this pod create. */
export function selectWebhook(
  entries: readonly WebhookEntry[], nsLabels: Record<string, string>, podLabels: Record<string, string> | undefined,
): WebhookEntry | undefined {
  return entries.find((e) =>
    ruleCoversPodCreate(e.rules) && matchesSelector(e.namespaceSelector, nsLabels) && matchesSelector(e.objectSelector, podLabels));
}
