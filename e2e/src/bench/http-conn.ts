// One keep-alive HTTP/1.1 connection that sends a fixed GET and parses just enough of the
// response (status, content-length or chunked body) to know when it is complete. Hand-written
// instead of node:http so that the client adds microseconds, not tens of them, to what we measure.
import net from 'node:net';

export interface HttpTarget {
  host: string;
  port: number;
  path: string;
}

type Done = (err: Error | null, status: number) => void;

const CRLF2 = Buffer.from('\r\n\r\n');

export class KeepAliveConn {
  private readonly sock: net.Socket;
  private readonly request: Buffer;
  private buf: Buffer = Buffer.alloc(0);
  private pending: Done | null = null;
  private status = 0;
  private bodyLeft = -1; // -1: reading headers; >= 0: bytes of a content-length body still to come
  private chunked = false;
  closed = false;

  private constructor(sock: net.Socket, target: HttpTarget) {
    this.sock = sock;
    this.request = Buffer.from(
      `GET ${target.path} HTTP/1.1\r\nHost: ${target.host}:${target.port}\r\nConnection: keep-alive\r\n\r\n`,
    );
    sock.setNoDelay(true);
    sock.on('data', (chunk: Buffer) => this.onData(chunk));
    sock.on('error', (err) => this.fail(err));
    sock.on('close', () => this.fail(new Error('connection closed by peer')));
  }

  static open(target: HttpTarget, timeoutMs = 10_000): Promise<KeepAliveConn> {
    return new Promise((resolve, reject) => {
      const sock = net.connect({ host: target.host, port: target.port });
      const timer = setTimeout(() => {
        sock.destroy();
        reject(new Error(`connect to ${target.host}:${target.port} timed out`));
      }, timeoutMs);
      sock.once('connect', () => {
        clearTimeout(timer);
        resolve(new KeepAliveConn(sock, target));
      });
      sock.once('error', (err) => {
        clearTimeout(timer);
        reject(err);
      });
    });
  }

  get busy(): boolean {
    return this.pending !== null;
  }

  send(done: Done): void {
    if (this.pending) throw new Error('KeepAliveConn.send while a request is in flight');
    this.pending = done;
    this.status = 0;
    this.bodyLeft = -1;
    this.chunked = false;
    this.sock.write(this.request);
  }

  close(): void {
    this.closed = true;
    this.sock.destroy();
  }

  private fail(err: Error): void {
    this.closed = true;
    const p = this.pending;
    this.pending = null;
    if (p) p(err, 0);
  }

  private finish(): void {
    const p = this.pending;
    this.pending = null;
    if (p) p(null, this.status);
  }

  private onData(chunk: Buffer): void {
    this.buf = this.buf.length === 0 ? chunk : Buffer.concat([this.buf, chunk]);
    if (this.bodyLeft < 0 && !this.chunked) {
      const end = this.buf.indexOf(CRLF2);
      if (end < 0) return;
      this.parseHead(this.buf.subarray(0, end).toString('latin1'));
      this.buf = this.buf.subarray(end + 4);
    }
    if (this.chunked) {
      this.readChunked();
      return;
    }
    if (this.buf.length >= this.bodyLeft) {
      this.buf = this.buf.subarray(this.bodyLeft);
      this.bodyLeft = -1;
      this.finish();
    }
  }

  private parseHead(head: string): void {
    const lines = head.split('\r\n');
    this.status = Number(lines[0]?.split(' ')[1] ?? 0);
    this.bodyLeft = 0;
    for (const line of lines.slice(1)) {
      const i = line.indexOf(':');
      const name = line.slice(0, i).trim().toLowerCase();
      const value = line.slice(i + 1).trim();
      if (name === 'content-length') this.bodyLeft = Number(value);
      if (name === 'transfer-encoding' && value.toLowerCase().includes('chunked')) this.chunked = true;
    }
  }

  // Consumes complete chunks; the body ends with a zero-size chunk and an empty trailer line.
  private readChunked(): void {
    for (;;) {
      const eol = this.buf.indexOf('\r\n');
      if (eol < 0) return;
      const size = parseInt(this.buf.subarray(0, eol).toString('latin1'), 16);
      if (size === 0) {
        const end = this.buf.indexOf(CRLF2, eol - 2 < 0 ? 0 : eol - 2);
        if (end < 0) return;
        this.buf = this.buf.subarray(end + 4);
        this.chunked = false;
        this.bodyLeft = -1;
        this.finish();
        return;
      }
      if (this.buf.length < eol + 2 + size + 2) return;
      this.buf = this.buf.subarray(eol + 2 + size + 2);
    }
  }
}
