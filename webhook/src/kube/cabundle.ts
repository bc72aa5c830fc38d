// The caBundle of every webhook in MutatingWebhookConfiguration `skein-injector`, as a JSON patch.
// Pure: the configuration as read → the operations. Each `replace`/`add` is preceded by a `test` of the
// webhook's name at that index, so a concurrent edit of the list makes the patch fail instead of
// writing the bundle into the wrong webhook (the next sync retries with a fresh read).

export const WEBHOOK_CONFIGURATION_NAME = 'skein-injector';

export interface WebhookView {
  readonly name: string;
  readonly clientConfig?: { readonly caBundle?: string | undefined } | undefined;
}

export type PatchOp =
  | { readonly op: 'test'; readonly path: string; readonly value: string }
  | { readonly op: 'add' | 'replace'; readonly path: string; readonly value: string | Record<string, never> };

export function caBundlePatch(webhooks: readonly WebhookView[] | undefined, caCertPem: string): PatchOp[] {
  const bundle = Buffer.from(caCertPem, 'utf8').toString('base64');
  const ops: PatchOp[] = [];
  (webhooks ?? []).forEach((w, i) => {
    if (w.clientConfig?.caBundle === bundle) return;
    ops.push({ op: 'test', path: `/webhooks/${i}/name`, value: w.name });
    if (w.clientConfig === undefined) ops.push({ op: 'add', path: `/webhooks/${i}/clientConfig`, value: {} });
    ops.push({ op: w.clientConfig?.caBundle === undefined ? 'add' : 'replace', path: `/webhooks/${i}/clientConfig/caBundle`, value: bundle });
  });
  return ops;
}
