// Shared helpers for the demo apps: an HTTP JSON server with a health endpoint,
// a GET that returns parsed JSON, and a tiny Redis (RESP) client. Only Node built-ins,
// so the demo runs any host's `node` with nothing installed.
import { Buffer } from 'node:buffer';
import http from 'node:http';
import net from 'node:net';
import { URL } from 'node:url';

export function envPort(name, fallback) {
  const raw = process.env[name] ?? String(fallback);
  const port = Number(raw);
  if (!Number.isInteger(port) || port <= 0 || port > 65535) {
    throw new Error(`${name}=${raw} is not a TCP port; set it to 1-65535`);
  }
  return port;
}

/** Starts a JSON server; `routes` maps a path to an async handler returning a JSON-able value. */
export function serveJson(app, port, routes) {
  const server = http.createServer(async (req, res) => {
    const path = new URL(req.url ?? '/', 'http://x').pathname;
    if (path === '/healthz') return send(res, 200, { ok: true, app });
    const handler = routes[path];
    if (!handler || req.method !== 'GET') return send(res, 404, { error: `no route ${req.method} ${path}`, app });
    try {
      send(res, 200, await handler(req));
    } catch (err) {
      send(res, 502, { error: String(err?.message ?? err), app });
    }
  });
  server.listen(port, '0.0.0.0', () => console.log(`${app}: listening on :${port}`));
  const stop = () => server.close(() => process.exit(0));
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
  return server;
}

function send(res, status, body) {
  const text = JSON.stringify(body) + '\n';
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

/** GET a URL and parse its JSON body; rejects on a non-2xx status or after `timeoutMs`. */
export function getJson(url, timeoutMs = 5000) {
  return new Promise((resolve, reject) => {
    const req = http.get(url, { timeout: timeoutMs }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk) => { body += chunk; });
      res.on('end', () => {
        if ((res.statusCode ?? 0) >= 300) return reject(new Error(`GET ${url} -> ${res.statusCode}: ${body.trim()}`));
        try { resolve(JSON.parse(body)); } catch { reject(new Error(`GET ${url}: body is not JSON: ${body.slice(0, 200)}`)); }
      });
    });
    req.on('timeout', () => req.destroy(new Error(`GET ${url} timed out after ${timeoutMs} ms`)));
    req.on('error', reject);
  });
}

/** Sends one Redis command (RESP array of bulk strings) and resolves with the integer/string reply. */
export function redisCommand(host, port, args, timeoutMs = 5000) {
  return new Promise((resolve, reject) => {
    const sock = net.connect({ host, port });
    let buf = '';
    sock.setTimeout(timeoutMs, () => sock.destroy(new Error(`redis ${host}:${port} timed out`)));
    sock.on('connect', () => {
      sock.write(`*${args.length}\r\n` + args.map((a) => `$${Buffer.byteLength(String(a))}\r\n${a}\r\n`).join(''));
    });
    sock.setEncoding('utf8');
    sock.on('data', (chunk) => {
      buf += chunk;
      const reply = parseReply(buf);
      if (reply === undefined) return;
      sock.end();
      if (reply instanceof Error) reject(reply); else resolve(reply);
    });
    sock.on('error', reject);
  });
}

// Only the reply kinds the demo uses: +simple, -error, :integer, $bulk.
function parseReply(buf) {
  const eol = buf.indexOf('\r\n');
  if (eol < 0) return undefined;
  const head = buf.slice(1, eol);
  switch (buf[0]) {
    case '+': return head;
    case '-': return new Error(`redis: ${head}`);
    case ':': return Number(head);
    case '$': {
      const len = Number(head);
      if (len < 0) return null;
      return buf.length >= eol + 2 + len + 2 ? buf.slice(eol + 2, eol + 2 + len) : undefined;
    }
    default: return new Error(`redis: unexpected reply ${JSON.stringify(buf.slice(0, 40))}`);
  }
}
