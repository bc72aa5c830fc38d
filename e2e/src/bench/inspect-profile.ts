// CPU-profiles one Node process through its inspector (entry point, run inside the pod's network
// namespace after the harness sent the process SIGUSR1, which opens the inspector on
// 127.0.0.1:9229 there). Starts the V8 sampling profiler, prints "profiling", stops when the stop
// file appears, writes the profile (the same .cpuprofile format `node --cpu-prof` writes).
import { existsSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import WebSocket from 'ws';

interface Reply { id?: number; result?: { profile?: unknown }; error?: { message: string } }

async function debuggerUrl(port: number, timeoutMs: number): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  let last = '';
  while (Date.now() < deadline) {
    try {
      const list = (await (await fetch(`http://127.0.0.1:${port}/json/list`)).json()) as { webSocketDebuggerUrl?: string }[];
      const url = list[0]?.webSocketDebuggerUrl;
      if (url) return url;
    } catch (err) {
      last = err instanceof Error ? err.message : String(err);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`no inspector on 127.0.0.1:${port} after ${timeoutMs} ms (${last})`);
}

async function main(): Promise<void> {
  const [out, stopFile, portArg] = process.argv.slice(2);
  if (!out || !stopFile) throw new Error('usage: inspect-profile.js OUT.cpuprofile STOP_FILE [PORT]');
  const ws = new WebSocket(await debuggerUrl(Number(portArg ?? 9229), 10_000));
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('error', reject);
  });
  let next = 1;
  const pending = new Map<number, (r: Reply) => void>();
  ws.on('message', (data: Buffer) => {
    const msg = JSON.parse(data.toString()) as Reply;
    if (msg.id !== undefined) pending.get(msg.id)?.(msg);
  });
  const call = (method: string, params: Record<string, unknown> = {}): Promise<Reply> => new Promise((resolve, reject) => {
    const id = next++;
    pending.set(id, (r) => (r.error ? reject(new Error(`${method}: ${r.error.message}`)) : resolve(r)));
    ws.send(JSON.stringify({ id, method, params }));
  });
  await call('Profiler.enable');
  await call('Profiler.setSamplingInterval', { interval: 500 });
  await call('Profiler.start');
  console.log('profiling');
  while (!existsSync(stopFile)) await new Promise((r) => setTimeout(r, 100));
  const stopped = await call('Profiler.stop');
  await writeFile(out, JSON.stringify(stopped.result?.profile));
  ws.close();
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(`inspect-profile: ${err instanceof Error ? err.message : String(err)}`);
    process.exit(1);
  },
);
