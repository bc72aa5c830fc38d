// Protocol detection of an accepted connection: peek the first bytes (Node cannot MSG_PEEK, so they are
// read and handed back with unshift) within --detect-timeout. May import detect/sniff and mtls/client-hello (pure) only.
//
// Why the timeout ends in opaque TCP and not in an error: a server-speaks-first protocol (MySQL, SMTP…)
// on a port nobody declared opaque sends nothing from the client, so after the timeout we connect and
// let the banner through (reliability N3), biasing towards availability as linkerd does.
import type net from 'node:net';
import type { Protocol } from '../metrics/index.js';
import { firstRecordLength } from '../mtls/client-hello.js';
import { sniff, MAX_SNIFF_BYTES } from './sniff.js';

const EMPTY = Buffer.alloc(0);

export { sniff, H2_PREFACE } from './sniff.js';

export type DetectReason = 'opaque_port' | 'sniffed' | 'timeout' | 'client_closed' | 'too_long' | 'client_error' | 'server_first' | 'alpn';

export interface Detected {
  protocol: Protocol;
  reason: DetectReason;
  /**
   * Bytes already read that could not be handed back with unshift because the client's FIN was read
   * first; the TCP forwarder writes them upstream before anything else. Empty in the common case.
   */
  leftover: Buffer;
  /** Everything peeked (also back in the socket's buffer, or in `leftover`): the inbound side reads the ClientHello's ALPN from it. */
  head: Buffer;
}

export interface DetectOptions {
  timeoutMs: number;
  opaque: boolean;
  /** TLS: keep reading until the first record (the ClientHello) is complete, so its ALPN can be read (mesh inbound). */
  wholeHello?: boolean;
  /** Ends detection as opaque (reason server_first) when it resolves first: the pre-dialled upstream spoke. */
  serverSpoke?: Promise<unknown>;
}

/**
 * Classifies the connection. On return the socket is paused and whatever was peeked is back in its
 * read buffer (or in `leftover`), so nothing is lost whichever path takes it next.
 */
export function detect(socket: net.Socket, options: DetectOptions): Promise<Detected> {
  if (options.opaque) return Promise.resolve({ protocol: 'opaque', reason: 'opaque_port', leftover: EMPTY, head: EMPTY });
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let length = 0;
    let done = false;
    const finish = (protocol: Protocol, reason: DetectReason, ended: boolean): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      socket.off('data', onData);
      socket.off('end', onEnd);
      socket.off('error', onError);
      socket.pause();
      const head = Buffer.concat(chunks, length);
      // unshift is only legal before 'end' has been emitted; after it, the bytes travel as leftover.
      if (!ended && head.length > 0) socket.unshift(head);
      resolve({ protocol, reason, leftover: ended ? head : EMPTY, head });
    };
    // Decisions happen synchronously inside 'data', before Node can emit 'end', so unshift is always legal here.
    const onData = (chunk: Buffer): void => {
      chunks.push(chunk);
      length += chunk.length;
      const buf = chunks.length === 1 ? chunk : Buffer.concat(chunks, length);
      const verdict = sniff(buf);
      if (verdict === 'tls' && options.wholeHello) {
        const record = firstRecordLength(buf);
        if (record === 'need_more' || (typeof record === 'number' && length < record)) return;
      }
      if (verdict !== 'need_more') finish(verdict, 'sniffed', false);
      else if (length >= MAX_SNIFF_BYTES) finish('opaque', 'too_long', false);
    };
    const onEnd = (): void => finish('opaque', 'client_closed', true);
    const onError = (): void => finish('opaque', 'client_error', true);
    const timer = setTimeout(() => finish('opaque', 'timeout', false), options.timeoutMs);
    options.serverSpoke?.then(() => finish('opaque', 'server_first', false), () => undefined);
    socket.on('data', onData);
    socket.on('end', onEnd);
    socket.on('error', onError);
  });
}
