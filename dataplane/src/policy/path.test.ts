// Path normalisation: every path trick of the reliability checklist (A1) and of issue 9, each a case,
// plus every encoded byte %01–%FF judged consistently.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { normalisePath, normaliseTarget, type PathProblem } from './path.js';

const ok = (url: string, path: string, target = path): void => {
  assert.deepEqual(normaliseTarget(url), { ok: true, path, target }, url);
};
const refused = (url: string, problem: PathProblem): void => {
  assert.deepEqual(normaliseTarget(url), { ok: false, problem }, url);
};

describe('path normalisation', () => {
  it('a canonical path is returned as is', () => {
    ok('/orders/1', '/orders/1');
    ok('/', '/');
    ok('/a/b/', '/a/b/');
    ok('/a-b_c~d.e/f:g@h!$&\'()*+,=', '/a-b_c~d.e/f:g@h!$&\'()*+,=');
    ok('/orders?x=1', '/orders', '/orders?x=1');
    ok('/.well-known/x', '/.well-known/x');
    ok('/a/...', '/a/...');
  });

  it('/orders/../admin: dot segments are removed, never above the root', () => {
    ok('/orders/../admin', '/admin');
    ok('/orders/./1', '/orders/1');
    ok('/../../admin', '/admin');
    ok('/orders/..', '/');
    ok('/orders/1/.', '/orders/1/');
    ok('/orders/1/..', '/orders/');
    ok('/..', '/');
  });

  it('%2e%2e and mixed forms are dot segments too', () => {
    ok('/orders/%2e%2e/admin', '/admin');
    ok('/orders/%2E%2E/admin', '/admin');
    ok('/orders/.%2e/admin', '/admin');
    ok('/orders/%2e/1', '/orders/1');
  });

  it('/%6Frders: encoded unreserved characters are decoded', () => {
    ok('/%6Frders', '/orders');
    ok('/%6frders/%31', '/orders/1');
    ok('/%41%7E%2D%5F', '/A~-_');
  });

  it('other escapes are kept, hex upper-cased, never decoded twice', () => {
    ok('/a%3ab', '/a%3Ab');
    ok('/a%20b', '/a%20b');
    ok('/a%252Fb', '/a%252Fb');
    ok('/a%3Fb', '/a%3Fb');
    ok('/a%23b', '/a%23b');
    ok('/a%3Bb', '/a%3Bb');
  });

  it('//orders: duplicate slashes are merged', () => {
    ok('//orders', '/orders');
    ok('/orders//1', '/orders/1');
    ok('///orders///1//', '/orders/1/');
    ok('//', '/');
    // merged before dot segments are resolved: the app gets the result, never a `//` or `..`
    ok('/a//../b', '/b');
  });

  it('/orders%2F..%2Fadmin: an encoded slash or backslash is refused', () => {
    refused('/orders%2F..%2Fadmin', 'encoded_slash');
    refused('/orders%2f..%2fadmin', 'encoded_slash');
    refused('/orders%5C..%5Cadmin', 'encoded_slash');
    refused('/orders%5c1', 'encoded_slash');
  });

  it('backslashes are refused', () => {
    refused('/orders\\..\\admin', 'backslash');
    refused('\\admin', 'not_origin_form');
    refused('/orders/1\\', 'backslash');
  });

  it('/ORDERS: case is kept (matching decides; see rules.test.ts)', () => {
    ok('/ORDERS', '/ORDERS');
    ok('/Orders/%6F', '/Orders/o');
  });

  it('; params are removed from every segment and cannot hide a dot segment', () => {
    ok('/admin;x', '/admin');
    ok('/orders;jsessionid=1/1', '/orders/1');
    ok('/orders/1;a;b=c', '/orders/1');
    ok('/;x/admin', '/admin');
    ok('/orders;/../admin', '/admin');
    refused('/orders/..;/admin', 'dot_segment_params');
    refused('/orders/.;x/1', 'dot_segment_params');
    refused('/orders;%00', 'control_char');
  });

  it('# fragments are removed', () => {
    ok('/admin#x', '/admin');
    ok('/orders#/../admin', '/orders');
    ok('/orders/1?x=1#frag', '/orders/1', '/orders/1?x=1');
    ok('/orders/1#?x', '/orders/1');
  });

  it('NUL and control characters, raw or encoded, are refused', () => {
    refused('/admin%00', 'control_char');
    refused('/admin\u0000', 'control_char');
    refused('/ad%0Amin', 'control_char');
    refused('/ad%0d%0amin', 'control_char');
    refused('/admin%7F', 'control_char');
    refused('/ad\tmin', 'control_char');
    refused('/ad min', 'control_char');
    refused('/a?x=\u0001', 'control_char');
  });

  it('invalid escapes are refused', () => {
    refused('/admin%', 'bad_escape');
    refused('/admin%2', 'bad_escape');
    refused('/admin%G1', 'bad_escape');
    refused('/admin%1G', 'bad_escape');
    refused('/%%41dmin', 'bad_escape');
    refused('/a%u0041', 'bad_escape');
  });

  it('non-UTF-8 bytes are refused; UTF-8 is kept percent-encoded; raw bytes (latin1 from Node) are encoded', () => {
    refused('/admin%FF', 'not_utf8');
    refused('/admin%C3', 'not_utf8');
    refused('/admin%C0%AF', 'not_utf8'); // overlong '/'
    ok('/caf%c3%a9', '/caf%C3%A9');
    ok('/caf\u00c3\u00a9', '/caf%C3%A9');
    refused('/caf\u00e9', 'not_utf8');
    refused('/caf\u0100', 'not_utf8');
  });

  it('characters outside pchar are percent-encoded', () => {
    ok('/a"b<c>d', '/a%22b%3Cc%3Ed');
    ok('/a{b}|^`[]', '/a%7Bb%7D%7C%5E%60%5B%5D');
  });

  it('absolute-form is reduced to its path and query; other forms are no paths', () => {
    ok('http://evil.example/orders/../admin?x', '/admin', '/admin?x');
    ok('http://host', '/', '/');
    ok('http://host?x', '/', '/?x');
    refused('admin', 'not_origin_form');
    refused('', 'not_origin_form');
    refused('*', 'not_origin_form');
    assert.deepEqual(normalisePath('admin'), { ok: false, problem: 'not_origin_form' });
  });

  it('every encoded byte %01–%FF: refused, or the same bytes after normalisation, never a new path separator', () => {
    const refusedBytes: number[] = [];
    for (let b = 1; b <= 255; b++) {
      const lower = b.toString(16).padStart(2, '0');
      const upper = lower.toUpperCase();
      assert.deepEqual(normaliseTarget(`/a%${lower}`), normaliseTarget(`/a%${upper}`), `%${lower} and %${upper} alike`);
      if (!normaliseTarget(`/a%${upper}`).ok) refusedBytes.push(b);
      for (const hex of [lower, upper]) {
        const r = normaliseTarget(`/admin%${hex}x/../y`);
        if (!r.ok) { assert.ok(refusedBytes.includes(b), `%${hex} refused only in some places`); continue; }
        // The segment holding the byte is one segment: `..` removes it whole, whatever the byte.
        assert.equal(r.path, '/y', `%${hex}`);
        const only = normaliseTarget(`/a%${hex}`);
        assert.ok(only.ok);
        assert.equal(decodeURIComponent(only.path), `/a${String.fromCharCode(b)}`, `%${hex} keeps its meaning`);
      }
      // Between two dot segments: never collapses into an escape from the root.
      const r = normaliseTarget(`/orders/%${b.toString(16).padStart(2, '0')}/../../admin`);
      assert.ok(!r.ok || r.path === '/admin', `%${b.toString(16)}`);
    }
    const expected = [];
    for (let b = 1; b <= 255; b++) if (b < 0x20 || b === 0x7f || b === 0x2f || b === 0x5c || b >= 0x80) expected.push(b);
    assert.deepEqual(refusedBytes, expected);
  });
});
