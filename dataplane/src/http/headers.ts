// Header rules the proxy applies itself (neither http-proxy nor undici does): hop-by-hop stripping
// (RFC 9110 §7.6.1), the framing checks llhttp leaves to us, and x-request-id. The undici path works on
// the raw [name, value, …] lists; stripRequestHopByHop/ensureRequestId edit req.headers for http-proxy.
import { randomUUID } from 'node:crypto';
import type http from 'node:http';
import { STATUS_CODES } from 'node:http';

const HOP_BY_HOP = ['connection', 'keep-alive', 'proxy-connection', 'upgrade', 'te', 'http2-settings'];
/** Never removed even when listed in Connection: removing them would change the message framing. */
const PROTECTED = new Set(['host', 'content-length', 'transfer-encoding', 'x-request-id']);
const HOP_BY_HOP_SET = new Set(HOP_BY_HOP);
/**
 * The verified identity of a meshed caller, set by the inbound sidecar for the app (http/server.ts).
 * Whatever a client sends under this name is removed on every request, meshed or not, in both
 * directions: only the sidecar that terminated the caller's mTLS may set it.
 */
export const PEER_IDENTITY_HEADER = 'x-skein-peer-identity';

/** Names listed in Connection plus the fixed hop-by-hop set, lowercased. */
function hopByHopNames(connection: string | string[] | undefined): string[] {
  const listed = (Array.isArray(connection) ? connection.join(',') : connection ?? '')
    .split(',').map((t) => t.trim().toLowerCase()).filter((t) => t !== '' && !PROTECTED.has(t));
  return [...HOP_BY_HOP, ...listed];
}

/**
 * Removes hop-by-hop request headers in place (req.headers is what http-proxy copies upstream).
 * `TE: trailers` is kept: it is how a client says it accepts trailers, which we forward.
 * Returns whether the client asked to close its connection.
 */
export function stripRequestHopByHop(req: http.IncomingMessage): { wantsClose: boolean } {
  const headers = req.headers;
  delete headers[PEER_IDENTITY_HEADER];
  const wantsClose = /(^|,)\s*close\s*(,|$)/i.test(String(headers.connection ?? ''));
  const te = headers.te;
  for (const name of hopByHopNames(headers.connection)) delete headers[name];
  if (typeof te === 'string' && te.trim().toLowerCase() === 'trailers') headers.te = 'trailers';
  return { wantsClose };
}

/** Removes hop-by-hop response headers in place, before http-proxy copies them to the client. */
export function stripResponseHopByHop(headers: http.IncomingHttpHeaders): void {
  for (const name of hopByHopNames(headers.connection)) delete headers[name];
}

/**
 * What one pass over a request's raw headers tells the proxy (the hot path reads req.rawHeaders only:
 * touching req.headers would make Node build a second, object form of the same headers).
 */
export interface RequestScan {
  /** A framing problem llhttp let through; must be a 400 that never reaches the upstream. */
  problem: string | undefined;
  host: string | undefined;
  requestId: string | undefined;
  /** The client asked to close its connection (Connection: close). */
  wantsClose: boolean;
  /** Expect is present (only 100-continue is meaningful): the http-proxy path carries it. */
  expect: boolean;
  /** Transfer-Encoding is present: the body is chunked and may end in trailers. */
  chunked: boolean;
  /** Content-Length other than 0: the request has a body of that length. */
  hasLength: boolean;
  /** Names listed in Connection (lowercased, protected ones left out), or undefined when none. */
  listed: Set<string> | undefined;
  /**
   * The headers for undici as a flat [name, value, …] list in the client's order and case: hop-by-hop
   * ones and what Connection lists removed, TE kept only as `TE: trailers`. x-request-id is the
   * caller's to add when the client sent none. (Transfer-Encoding and Expect requests take http-proxy.)
   */
  forward: string[];
}

/**
 * Framing problems Node's llhttp (strict mode) lets through to the 'request' event; each must be a 400
 * and never reach the upstream (reliability O1, RFC 9112 §3.2, §6.1). Returns a bounded reason or undefined.
 */
export function framingProblem(req: http.IncomingMessage): string | undefined {
  return scanRequest(req).problem;
}

/** One pass over req.rawHeaders: the framing checks plus what forwarding needs. */
export function scanRequest(req: http.IncomingMessage): RequestScan {
  const raw = req.rawHeaders;
  let hosts = 0;
  let lengths = 0;
  let encodings = 0;
  let te = '';
  let connection = '';
  const scan: RequestScan = {
    problem: undefined, host: undefined, requestId: undefined, wantsClose: false, expect: false, chunked: false,
    hasLength: false, listed: undefined, forward: [],
  };
  const forward = scan.forward;
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const original = raw[i] as string;
    const name = original.toLowerCase();
    const value = raw[i + 1] as string;
    if (!HOP_BY_HOP_SET.has(name)) { if (name !== PEER_IDENTITY_HEADER) forward.push(original, value); }
    else if (name === 'te' && value.trim().toLowerCase() === 'trailers') forward.push(original, 'trailers');
    switch (name) {
      case 'host': hosts++; scan.host = value; break;
      case 'content-length': lengths++; if (value !== '0') scan.hasLength = true; break;
      case 'transfer-encoding': encodings++; te = te === '' ? value : `${te}, ${value}`; break;
      case 'connection': connection = connection === '' ? value : `${connection},${value}`; break;
      case 'expect': scan.expect = true; break;
      case 'x-request-id': if (scan.requestId === undefined && value !== '') scan.requestId = value; break;
      case '__proto__': case 'constructor': case 'prototype': scan.problem = 'forbidden_header_name'; return scan;
      default: break;
    }
  }
  scan.problem = hosts > 1 ? 'duplicate_host'
    : hosts === 0 && req.httpVersion === '1.1' ? 'missing_host'
      : lengths > 1 ? 'duplicate_content_length'
        : encodings > 0 ? encodingProblem(req.httpVersion, lengths, te) : undefined;
  scan.chunked = encodings > 0;
  if (connection !== '') {
    for (const token of connection.split(',')) {
      const t = token.trim().toLowerCase();
      if (t === 'close') scan.wantsClose = true;
      else if (t !== '' && t !== 'keep-alive' && !PROTECTED.has(t)) (scan.listed ??= new Set()).add(t);
    }
    const listed = scan.listed;
    if (listed !== undefined) {
      for (let i = forward.length - 2; i >= 0; i -= 2) if (listed.has((forward[i] as string).toLowerCase())) forward.splice(i, 2);
    }
  }
  return scan;
}

function encodingProblem(version: string, lengths: number, te: string): string | undefined {
  if (version !== '1.1') return 'transfer_encoding_in_http10';
  if (lengths > 0) return 'transfer_encoding_with_content_length';
  const codings = te.split(',').map((c) => c.trim().toLowerCase());
  if (codings[codings.length - 1] !== 'chunked' || codings.indexOf('chunked') !== codings.length - 1) {
    return 'transfer_encoding_not_chunked';
  }
  return undefined;
}

/**
 * The response headers for the client from undici's raw list: hop-by-hop ones and what Connection
 * lists removed, then `connection` set for HTTP/1.1 clients (keep-alive, or close when asked/draining).
 * `head.contentLength` gets the Content-Length (-1 when there is none). HTTP/1.0 clients get no
 * Transfer-Encoding.
 */
export function clientResponseHeaders(
  raw: Buffer[], connection: string | undefined, http10: boolean, head: { contentLength: number },
): string[] {
  const out: string[] = [];
  head.contentLength = -1;
  let listed: Set<string> | undefined;
  // A Transfer-Encoding whose last coding is not chunked (gzip alone) ends its body by closing
  // (RFC 9112 §6.3): forwarded with keep-alive, the client would wait for an end that never comes.
  let closeDelimited = false;
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const name = (raw[i] as Buffer).toString('latin1');
    const lower = name.toLowerCase();
    const value = (raw[i + 1] as Buffer).toString('latin1');
    if (lower === 'connection') {
      for (const token of value.split(',')) {
        const t = token.trim().toLowerCase();
        if (t !== '' && t !== 'close' && t !== 'keep-alive' && !PROTECTED.has(t)) (listed ??= new Set()).add(t);
      }
      continue;
    }
    if (HOP_BY_HOP_SET.has(lower)) continue;
    if (lower === 'content-length') head.contentLength = Number(value);
    // An HTTP/1.0 client cannot read chunked framing: Node then ends the body by closing (as http-proxy did).
    else if (lower === 'transfer-encoding') {
      if (!/(^|,)[ \t]*chunked[ \t]*$/i.test(value)) closeDelimited = true;
      if (http10) continue;
    }
    out.push(name, value);
  }
  if (listed !== undefined) {
    for (let i = out.length - 2; i >= 0; i -= 2) if (listed.has((out[i] as string).toLowerCase())) out.splice(i, 2);
  }
  if (connection !== undefined) out.push('connection', closeDelimited ? 'close' : connection);
  return out;
}

// RFC 9112 §4: reason-phrase = *( HTAB / SP / VCHAR / obs-text ). Anything else (a control character)
// makes Node's writeHead throw ERR_INVALID_CHAR, which crashed the proxy on the http-proxy path and left
// the client unanswered on the undici path.
const REASON_PHRASE = /^[\t\x20-\x7e\x80-\xff]*$/;

/** The upstream's reason phrase when it is valid, else the standard one for the status. */
export function safeReasonPhrase(status: number, text: string | undefined): string {
  if (text !== undefined && REASON_PHRASE.test(text)) return text;
  return STATUS_CODES[status] ?? '';
}

/** Raw trailer pairs (Buffers from undici, strings from Node) as the [name, value] tuples addTrailers takes. */
export function trailerPairs(raw: ReadonlyArray<Buffer | string>): Array<[string, string]> {
  const out: Array<[string, string]> = [];
  for (let i = 0; i + 1 < raw.length; i += 2) out.push([String(raw[i]), String(raw[i + 1])]);
  return out;
}

/** Adds x-request-id when the client sent none; returns the id used. */
export function ensureRequestId(req: http.IncomingMessage): string {
  const existing = req.headers['x-request-id'];
  if (typeof existing === 'string' && existing !== '') return existing;
  const id = randomUUID();
  req.headers['x-request-id'] = id;
  return id;
}
