// Header rules the proxy applies itself because http-proxy does not: hop-by-hop stripping (RFC 9110
// §7.6.1), the framing checks llhttp leaves to us, and x-request-id.
import { randomUUID } from 'node:crypto';
import type http from 'node:http';

const HOP_BY_HOP = ['connection', 'keep-alive', 'proxy-connection', 'upgrade', 'te', 'http2-settings'];
/** Never removed even when listed in Connection: removing them would change the message framing. */
const PROTECTED = new Set(['host', 'content-length', 'transfer-encoding', 'x-request-id']);

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
 * Framing problems Node's llhttp (strict mode) lets through to the 'request' event; each must be a 400
 * and never reach the upstream (reliability O1, RFC 9112 §3.2, §6.1). Returns a bounded reason or undefined.
 */
export function framingProblem(req: http.IncomingMessage): string | undefined {
  let hosts = 0;
  let lengths = 0;
  let encodings = 0;
  for (let i = 0; i < req.rawHeaders.length; i += 2) {
    const name = (req.rawHeaders[i] as string).toLowerCase();
    if (name === 'host') hosts++;
    else if (name === 'content-length') lengths++;
    else if (name === 'transfer-encoding') encodings++;
    else if (name === '__proto__' || name === 'constructor' || name === 'prototype') return 'forbidden_header_name';
  }
  if (hosts > 1) return 'duplicate_host';
  if (hosts === 0 && req.httpVersion === '1.1') return 'missing_host';
  if (lengths > 1) return 'duplicate_content_length';
  if (encodings > 0) {
    if (req.httpVersion !== '1.1') return 'transfer_encoding_in_http10';
    if (lengths > 0) return 'transfer_encoding_with_content_length';
    const codings = String(req.headers['transfer-encoding']).split(',').map((c) => c.trim().toLowerCase());
    if (codings[codings.length - 1] !== 'chunked' || codings.indexOf('chunked') !== codings.length - 1) {
      return 'transfer_encoding_not_chunked';
    }
  }
  return undefined;
}

/** Adds x-request-id when the client sent none; returns the id used. */
export function ensureRequestId(req: http.IncomingMessage): string {
  const existing = req.headers['x-request-id'];
  if (typeof existing === 'string' && existing !== '') return existing;
  const id = randomUUID();
  req.headers['x-request-id'] = id;
  return id;
}
