// kubectl-like tables for `get` (pure).
import type { Deployment, KubeObject, Pod, Service } from '../model/types.js';

export function age(ts: string | undefined, now = Date.now()): string {
  if (!ts) return '<unknown>';
  const s = Math.max(0, Math.floor((now - Date.parse(ts)) / 1000));
  if (s < 120) return `${s}s`;
  if (s < 7200) return `${Math.floor(s / 60)}m`;
  if (s < 172800) return `${Math.floor(s / 3600)}h`;
  return `${Math.floor(s / 86400)}d`;
}

/** The STATUS column as kubectl derives it. */
export function podStatusText(p: Pod): string {
  const st = p.status;
  if (!st) return 'Pending';
  if (st.phase === 'Succeeded') return 'Completed';
  const all = [...(st.initContainerStatuses ?? []), ...(st.containerStatuses ?? [])];
  const waiting = all.find((c) => 'waiting' in c.state && c.state.waiting.reason === 'CrashLoopBackOff');
  if (waiting) return 'CrashLoopBackOff';
  if (st.phase === 'Failed') return st.reason ?? 'Error';
  const init = st.initContainerStatuses ?? [];
  const initialized = (st.conditions ?? []).some((c) => c.type === 'Initialized' && c.status === 'True');
  if (!initialized && init.length > 0) {
    const done = init.filter((c) => ('terminated' in c.state && c.state.terminated.exitCode === 0) || c.started).length;
    return done === init.length ? 'PodInitializing' : `Init:${done}/${init.length}`;
  }
  return st.phase;
}

function table(rows: string[][]): string {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length)));
  return rows.map((r) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]! + 3))).join('').trimEnd()).join('\n');
}

export function formatTable(kind: string, items: KubeObject[], wide: boolean, withNamespace: boolean): string {
  const ns = (o: KubeObject): string[] => (withNamespace ? [o.metadata.namespace ?? ''] : []);
  const head = withNamespace ? ['NAMESPACE'] : [];
  let rows: string[][];
  switch (kind) {
    case 'Pod':
      rows = [[...head, 'NAME', 'READY', 'STATUS', 'RESTARTS', 'AGE', ...(wide ? ['IP', 'NODE'] : [])], ...(items as Pod[]).map((p) => {
        const cs = p.status?.containerStatuses ?? [];
        const sidecars = (p.status?.initContainerStatuses ?? []).filter((c) => (p.spec.initContainers ?? []).some((i) => i.name === c.name && i.restartPolicy === 'Always'));
        const counted = [...sidecars, ...cs];
        const ready = `${counted.filter((c) => c.ready).length}/${counted.length || p.spec.containers.length}`;
        const restarts = String([...(p.status?.initContainerStatuses ?? []), ...cs].reduce((n, c) => n + c.restartCount, 0));
        return [...ns(p), p.metadata.name!, ready, podStatusText(p), restarts, age(p.metadata.creationTimestamp), ...(wide ? [p.status?.podIP ?? '<none>', p.spec.nodeName ?? '<none>'] : [])];
      })];
      break;
    case 'Service':
      rows = [[...head, 'NAME', 'TYPE', 'CLUSTER-IP', 'PORT(S)', 'AGE'], ...(items as Service[]).map((s) => [
        ...ns(s), s.metadata.name!, s.spec.type ?? 'ClusterIP', s.spec.clusterIP ?? '<none>',
        (s.spec.ports ?? []).map((p) => `${p.port}/${p.protocol ?? 'TCP'}`).join(',') || '<none>', age(s.metadata.creationTimestamp)])];
      break;
    case 'Deployment':
      rows = [[...head, 'NAME', 'READY', 'UP-TO-DATE', 'AVAILABLE', 'AGE'], ...(items as Deployment[]).map((d) => {
        const st = (d as unknown as { status?: Record<string, number> }).status ?? {};
        return [...ns(d), d.metadata.name!, `${st.readyReplicas ?? 0}/${d.spec.replicas ?? 1}`, String(st.updatedReplicas ?? 0), String(st.availableReplicas ?? 0), age(d.metadata.creationTimestamp)];
      })];
      break;
    case 'Namespace':
      rows = [['NAME', 'STATUS', 'AGE'], ...items.map((o) => [o.metadata.name!, 'Active', age(o.metadata.creationTimestamp)])];
      break;
    default:
      rows = [[...head, 'NAME', 'AGE'], ...items.map((o) => [...ns(o), o.metadata.name!, age(o.metadata.creationTimestamp)])];
  }
  return table(rows);
}
