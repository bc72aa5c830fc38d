// The CLI's stdout and stderr when they are pipes: writes that wait for the reader, and a flush to
// await before the process exits (process.exit drops what is still queued for a pipe).
import { createReadStream } from 'node:fs';

/** A reader that went away (`logs POD | head`) is not an error: stop writing, exit quietly. */
let readerGone = false;

export function watchStdout(): void {
  process.stdout.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code === 'EPIPE') { readerGone = true; return; }
    throw err;
  });
}

/** Writes to stdout, waiting while the pipe is full (until it drains, or the reader is gone). */
export async function writeOut(chunk: string | Uint8Array): Promise<void> {
  if (readerGone || process.stdout.write(chunk)) return;
  await new Promise<void>((resolvePromise) => {
    const done = (): void => {
      process.stdout.off('drain', done);
      process.stdout.off('error', done);
      resolvePromise();
    };
    process.stdout.on('drain', done);
    process.stdout.on('error', done);
  });
}

/** Copies a file to stdout as it is read (a 5 MB log is never held in memory nor cut). */
export async function streamFileToStdout(path: string): Promise<void> {
  for await (const chunk of createReadStream(path)) {
    if (readerGone) return;
    await writeOut(chunk as Buffer);
  }
}

function flushed(stream: NodeJS.WriteStream): Promise<void> {
  if (stream === process.stdout && readerGone) return Promise.resolve();
  // Write callbacks run in order: the empty write's runs once everything before it is written.
  return new Promise((r) => { stream.write('', () => r()); });
}

/** Resolves once everything written to stdout and stderr so far has reached the kernel. */
export async function stdioFlushed(): Promise<void> {
  await Promise.all([flushed(process.stdout), flushed(process.stderr)]);
}
