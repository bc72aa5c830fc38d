// Kubernetes mode: the mesh CA is the Secret `skein-ca` in the control-plane namespace (material.ts for
// its keys). A user may create it beforehand with their own CA (cert-manager's layout, an intermediate
// with its root in ca.crt); otherwise the leader generates a root and creates the Secret once (a 409 means
// another replica did it first: theirs is read and used), and the other replicas wait for it. Every
// replica re-reads the Secret every few seconds, so a user's change (a rotation) is picked up without a
// restart. A Secret that cannot be used is reported with what to fix, never overwritten; the CA in use is
// kept. A deleted Secret is written back by the leader from the CA in use (deleting it must not silently
// start a new root that no sidecar trusts).
import { StoppedDuringStartError } from '../../errors.js';
import { statusOf, type KubeIo } from '../../kube/client.js';
import { ErrorThrottle } from '../../kube/throttle.js';
import type { Logger } from '../../log.js';
import { SwappableCa, type MeshCa } from './mesh-ca.js';
import { KEY_CA_CRT, KEY_EXTRA_ROOTS, KEY_TLS_CRT, KEY_TLS_KEY, loadCaMaterial, type CaSource } from './material.js';
import { Poller } from './poller.js';
import { generateRootCa } from './root.js';

export const CA_SECRET_NAME = 'skein-ca';
export const CA_SECRET_TYPE = 'kubernetes.io/tls';
export const KUBE_POLL_READY_MS = 10_000;
export const KUBE_POLL_WAITING_MS = 2_000;

export interface KubeMeshCaOptions {
  readonly io: KubeIo;
  readonly namespace: string;
  readonly trustDomain: string;
  readonly isLeader: () => boolean;
  readonly log: Logger;
  /** Gives up waiting for the Secret (the promise rejects with StoppedDuringStartError). */
  readonly signal?: AbortSignal;
  readonly pollReadyMs?: number;
  readonly pollWaitingMs?: number;
}

export interface KubeMeshCa extends MeshCa {
  /** Re-reads the Secret now (call it when this replica becomes leader). */
  kick(): void;
}

function decode(data: Readonly<Record<string, string>> | undefined): Partial<CaSource> {
  const get = (k: string): string | undefined => {
    const v = data?.[k];
    return v === undefined || v === '' ? undefined : Buffer.from(v, 'base64').toString('utf8');
  };
  return { certPem: get(KEY_TLS_CRT), keyPem: get(KEY_TLS_KEY), caCrtPem: get(KEY_CA_CRT), extraRootsPem: get(KEY_EXTRA_ROOTS) };
}

function encode(s: CaSource): Record<string, string> {
  const b64 = (v: string): string => Buffer.from(v, 'utf8').toString('base64');
  const out: Record<string, string> = { [KEY_TLS_CRT]: b64(s.certPem), [KEY_TLS_KEY]: b64(s.keyPem) };
  if (s.caCrtPem !== undefined) out[KEY_CA_CRT] = b64(s.caCrtPem);
  if (s.extraRootsPem !== undefined) out[KEY_EXTRA_ROOTS] = b64(s.extraRootsPem);
  return out;
}

const fingerprintOf = (s: Partial<CaSource>): string => JSON.stringify([s.certPem, s.keyPem, s.caCrtPem, s.extraRootsPem]);

export async function startKubeMeshCa(opts: KubeMeshCaOptions): Promise<KubeMeshCa> {
  const { io, namespace, log } = opts;
  const where = `Secret ${namespace}/${CA_SECRET_NAME}`;
  const errors = new ErrorThrottle(log, 'error');
  let inUse: { source: CaSource; fp: string } | undefined;
  let waitingLogged = false;
  let resolveReady: () => void = () => {};
  const ready = new Promise<void>((resolve) => { resolveReady = resolve; });
  const ref: { poller?: Poller } = {};
  const ca = new SwappableCa(log, async () => { await ref.poller?.stop(); });

  const adopt = async (source: CaSource): Promise<void> => {
    const fp = fingerprintOf(source);
    if (inUse?.fp === fp) return;
    ca.replace(await loadCaMaterial(source, where));
    inUse = { source, fp };
    resolveReady();
  };

  const create = async (source: CaSource, why: string): Promise<boolean> => {
    try {
      await io.createSecret(namespace, CA_SECRET_NAME, CA_SECRET_TYPE, encode(source));
      log.info({ secret: where }, why);
      return true;
    } catch (err) {
      if (statusOf(err) === 409) {
        log.info({ secret: where }, 'another replica created the mesh CA Secret first; using theirs');
        return false;
      }
      throw err;
    }
  };

  const syncOnce = async (): Promise<void> => {
    const read = await io.readSecret(namespace, CA_SECRET_NAME);
    if (read === undefined) {
      if (!opts.isLeader()) {
        if (!waitingLogged) log.info({ secret: where }, 'waiting for the leader to create the mesh CA Secret');
        waitingLogged = true;
        return;
      }
      if (inUse !== undefined) {
        await create(inUse.source, 'the mesh CA Secret was deleted; wrote the CA in use back');
        return;
      }
      const root = await generateRootCa(opts.trustDomain);
      const source: CaSource = { certPem: root.certPem, keyPem: root.keyPem, caCrtPem: root.certPem };
      if (await create(source, 'created the mesh CA Secret with a new root')) await adopt(source);
      else await syncOnce(); // the Secret exists now: read and use it
      return;
    }
    const s = decode(read.data);
    if (s.certPem === undefined || s.keyPem === undefined) {
      throw new Error(`${where} has no ${s.certPem === undefined ? KEY_TLS_CRT : KEY_TLS_KEY}; put the CA certificate in ${KEY_TLS_CRT} and its key in ${KEY_TLS_KEY} (kubectl create secret tls ${CA_SECRET_NAME} -n ${namespace} --cert=ca.crt --key=ca.key), or delete the Secret to let skein-cp generate a root`);
    }
    await adopt({ certPem: s.certPem, keyPem: s.keyPem, caCrtPem: s.caCrtPem, extraRootsPem: s.extraRootsPem });
  };

  const poller = new Poller(async () => {
    try {
      await syncOnce();
      errors.clear();
    } catch (err) {
      errors.report(err, inUse ? 'the mesh CA Secret cannot be used; still signing with the CA in use' : 'cannot load the mesh CA; retrying');
    }
    return inUse ? (opts.pollReadyMs ?? KUBE_POLL_READY_MS) : (opts.pollWaitingMs ?? KUBE_POLL_WAITING_MS);
  });
  ref.poller = poller;
  poller.kick();

  const signal = opts.signal;
  if (signal) {
    const aborted = new Promise<never>((_, reject) => {
      const onAbort = (): void => reject(new StoppedDuringStartError());
      if (signal.aborted) onAbort();
      else signal.addEventListener('abort', onAbort, { once: true });
    });
    try {
      await Promise.race([ready, aborted]);
    } catch (err) {
      await poller.stop();
      throw err;
    }
  } else {
    await ready;
  }
  return Object.assign(ca, { kick: () => poller.kick() });
}
