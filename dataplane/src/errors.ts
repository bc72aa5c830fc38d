// Errors of skein-dp with stable codes, and the one place that turns a failure into an HTTP status
// (CONVENTIONS §6: linkerd maps errors to 403/502/504 in a single module). Messages say what was
// wrong and what to do.

/**
 * Base class: every error skein-dp raises on purpose carries a stable `code` (lowercase for the proxy;
 * `INIT_*` for init and `ORIG_DST_*` for the addon, kept as their tests and logs already use them).
 */
export class SkeinError extends Error {
  readonly code: string;
  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
    this.code = code;
  }
}

/** A bad flag or environment variable; `flag` names it (e.g. `--detect-timeout`, `POD_IP`). */
export class ConfigError extends SkeinError {
  readonly flag: string;
  constructor(flag: string, message: string) {
    super('config_invalid', `${flag}: ${message}`);
    this.flag = flag;
  }
}

/** The original destination of a redirected connection could not be read. */
export class OrigDstError extends SkeinError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('orig_dst_failed', message, options);
  }
}

/** The SO_ORIGINAL_DST addon is not built or cannot be loaded (wrong Node ABI, missing file). */
export class OrigDstUnavailableError extends SkeinError {
  constructor(addonPath: string, cause: unknown) {
    super('ORIG_DST_UNAVAILABLE',
      `cannot load the SO_ORIGINAL_DST addon (${addonPath}): ${cause instanceof Error ? cause.message : String(cause)}. ` +
        'Build it with `npm run build:native` at the repository root (needs python3, make and a C compiler).',
      { cause });
  }
}

/**
 * The kernel had no original destination for this socket: it was not redirected (no conntrack NAT
 * entry: ENOENT), conntrack for that family is not loaded (ENOPROTOOPT), or the socket is closed.
 */
export class OrigDstLookupError extends SkeinError {
  constructor(readonly errno: string, message: string) {
    super('ORIG_DST_LOOKUP_FAILED', message);
  }
}

/** The dataplane image folder could not be built from this checkout (image/install.ts). */
export class ImageBuildError extends SkeinError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('IMAGE_BUILD_FAILED', message, options);
  }
}

/** A connection whose original destination is one of the proxy's own ports on a local address. */
export class LoopError extends SkeinError {
  constructor(address: string, port: number) {
    super('proxy_loop', `refusing ${address}:${port}: it is the proxy's own listener (a redirect loop; ` +
      'check that the proxy runs as the UID that skein-dp init excludes)');
  }
}

/** Connecting to the upstream did not finish within --connect-timeout. */
export class UpstreamConnectTimeoutError extends SkeinError {
  constructor(target: string, ms: number) {
    super('upstream_connect_timeout', `connecting to ${target} took longer than ${ms} ms`);
  }
}

/** The upstream accepted the request but sent nothing for --response-timeout. */
export class UpstreamResponseTimeoutError extends SkeinError {
  constructor(target: string, ms: number) {
    super('upstream_timeout', `${target} sent no response data for ${ms} ms`);
  }
}

/** What the client of an HTTP request is told when forwarding failed. */
export interface HttpFailure {
  status: 400 | 502 | 503 | 504;
  /** Value of the `x-skein-error` response header; bounded set, safe as a metric label. */
  code: string;
}

/** Maps any error met while forwarding to the status and `x-skein-error` code the client sees. */
export function httpFailureFor(err: unknown): HttpFailure {
  const code = errorCode(err);
  switch (code) {
    case 'upstream_connect_timeout':
    case 'upstream_timeout':
    case 'ETIMEDOUT':
      return { status: 504, code: code === 'ETIMEDOUT' ? 'upstream_connect_timeout' : code };
    // undici (the HTTP upstream client): no response head / no body data for --response-timeout.
    case 'UND_ERR_HEADERS_TIMEOUT':
    case 'UND_ERR_BODY_TIMEOUT':
      return { status: 504, code: 'upstream_timeout' };
    case 'UND_ERR_CONNECT_TIMEOUT':
      return { status: 504, code: 'upstream_connect_timeout' };
    // undici: the upstream closed the connection before the response was complete.
    case 'UND_ERR_SOCKET':
      return { status: 502, code: 'upstream_reset' };
    case 'UND_ERR_RES_CONTENT_LENGTH_MISMATCH':
      return { status: 502, code: 'upstream_bad_response' };
    case 'ECONNREFUSED':
      return { status: 502, code: 'upstream_refused' };
    // mtls/: the mTLS handshake with the peer sidecar failed or its identity was not the expected one.
    case 'upstream_tls_failed':
      return { status: 502, code };
    case 'ECONNRESET':
    case 'EPIPE':
      return { status: 502, code: 'upstream_reset' };
    case 'EHOSTUNREACH':
    case 'ENETUNREACH':
    case 'EADDRNOTAVAIL':
      return { status: 502, code: 'upstream_unreachable' };
    case 'HPE_INVALID_CONSTANT':
    case 'HPE_INVALID_HEADER_TOKEN':
    case 'HPE_INVALID_VERSION':
    case 'HPE_INVALID_STATUS':
    case 'HPE_UNEXPECTED_CONTENT_LENGTH':
    case 'HPE_INVALID_TRANSFER_ENCODING':
    case 'HPE_INVALID_CONTENT_LENGTH':
      return { status: 502, code: 'upstream_bad_response' };
    default:
      return { status: 502, code: 'upstream_error' };
  }
}

/** The stable code of an error: ours, Node's system code (ECONNRESET) or `unknown`. */
export function errorCode(err: unknown): string {
  if (err !== null && typeof err === 'object' && 'code' in err && typeof err.code === 'string') {
    return err.code;
  }
  return 'unknown';
}

/** A bounded label for metrics: known codes pass, anything else becomes `other` (D3: no unbounded labels). */
export function errorLabel(err: unknown): string {
  const code = errorCode(err);
  return KNOWN_LABELS.has(code) ? code : 'other';
}

/** A bounded label for a TCP outcome (`ECONNRESET`, `client_ECONNRESET`, `idle_timeout`…). */
export function outcomeLabel(outcome: string): string {
  const code = outcome.startsWith('client_') ? outcome.slice(7) : outcome;
  return KNOWN_LABELS.has(code) ? outcome : 'other';
}

const KNOWN_LABELS = new Set([
  'config_invalid', 'orig_dst_failed', 'proxy_loop', 'upstream_connect_timeout', 'upstream_timeout',
  'ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'EADDRNOTAVAIL',
  'ERR_STREAM_PREMATURE_CLOSE', 'idle_timeout', 'unknown', 'upstream_tls_failed',
]);
