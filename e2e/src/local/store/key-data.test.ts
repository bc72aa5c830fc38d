import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { InvalidError } from '../errors.js';
import type { KubeObject } from '../model/types.js';
import { base64Problem, keyDataOf, MAX_TOTAL_BYTES, normaliseKeyObject } from './key-data.js';

const secret = (fields: Record<string, unknown>): KubeObject => ({ apiVersion: 'v1', kind: 'Secret', metadata: { name: 'creds', namespace: 'shop' }, ...fields });
const configMap = (fields: Record<string, unknown>): KubeObject => ({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'cfg', namespace: 'shop' }, ...fields });
const BINARY = Buffer.from([0x00, 0xff, 0xfe, 0xc3, 0x28, 0x80, 0x0a, 0x00, 0xe2, 0x82]);

describe('Secret data as bytes', () => {
  it('keeps arbitrary bytes end to end (NUL, invalid UTF-8)', () => {
    const stored = normaliseKeyObject(secret({ data: { blob: BINARY.toString('base64') } }));
    assert.ok(keyDataOf(stored).files.get('blob')!.equals(BINARY));
    assert.equal(stored.type, 'Opaque');
  });
  it('merges stringData (UTF-8) over data and does not store it, as the API server', () => {
    const stored = normaliseKeyObject(secret({ data: { a: 'eA==', b: 'eQ==' }, stringData: { b: 'bé', c: 'zed' } }));
    assert.equal(stored.stringData, undefined);
    assert.deepEqual(stored.data, { a: 'eA==', b: Buffer.from('bé').toString('base64'), c: 'emVk' });
    assert.equal(keyDataOf(stored).env.get('b')!.toString('utf8'), 'bé');
  });
  it('refuses values that are not base64, naming the Secret and the key', () => {
    for (const bad of ['not base64!', 'abc', 'ab=c', 'a===']) {
      assert.throws(() => normaliseKeyObject(secret({ data: { 'tls.key': bad } })),
        (e: Error) => e instanceof InvalidError && e.message.startsWith('Secret "shop/creds" is invalid: data["tls.key"]: value is not valid base64'), bad);
    }
    assert.doesNotThrow(() => normaliseKeyObject(secret({ data: { k: 'YWJj\nZGVm\r\n' } })), 'Go skips \\r and \\n');
  });
  it('refuses keys that are not config keys', () => {
    for (const [bad, why] of [['a b', /a valid config key must consist of alphanumeric characters/], ['x/y', /regex used for validation is '\[-\._a-zA-Z0-9\]\+'/],
      ['..', /must not be '\.\.'/], ['..data', /must not start with '\.\.'/], ['k'.repeat(254), /at most 253 characters/]] as const) {
      assert.throws(() => normaliseKeyObject(secret({ stringData: { [bad]: 'v' } })),
        (e: Error) => e instanceof InvalidError && e.message.includes(`Secret "shop/creds" is invalid: stringData[${JSON.stringify(bad)}]`) && why.test(e.message), bad);
    }
    assert.throws(() => normaliseKeyObject(secret({ data: { 'ok-key_1.txt': 1 } })), /data\["ok-key_1.txt"\]: value must be a string, not number/);
  });
  it('refuses more than 1 MiB', () => {
    const big = Buffer.alloc(MAX_TOTAL_BYTES + 1).toString('base64');
    assert.throws(() => normaliseKeyObject(secret({ data: { big } })), /Secret "shop\/creds" is invalid: data: Too long: must have at most 1048576 bytes/);
  });
});

describe('ConfigMap binaryData', () => {
  it('keeps binaryData bytes for volumes and leaves it out of env', () => {
    const cm = normaliseKeyObject(configMap({ data: { text: 'héllo' }, binaryData: { blob: BINARY.toString('base64') } }));
    const d = keyDataOf(cm);
    assert.ok(d.files.get('blob')!.equals(BINARY));
    assert.equal(d.files.get('text')!.toString('utf8'), 'héllo');
    assert.deepEqual([...d.env.keys()], ['text']);
  });
  it('refuses a key in both maps, bad base64 and bad keys', () => {
    assert.throws(() => normaliseKeyObject(configMap({ data: { k: 'x' }, binaryData: { k: 'eA==' } })),
      /ConfigMap "shop\/cfg" is invalid: binaryData\["k"\]: duplicate of key present in data/);
    assert.throws(() => normaliseKeyObject(configMap({ binaryData: { k: '%%%%' } })), /binaryData\["k"\]: value is not valid base64 \(illegal base64 data at input byte 0\)/);
    assert.throws(() => normaliseKeyObject(configMap({ data: { 'a:b': 'x' } })), /ConfigMap "shop\/cfg" is invalid: data\["a:b"\]: Invalid value/);
  });
});

describe('base64 as Go decodes []byte', () => {
  it('accepts padded standard base64 and explains what is wrong otherwise', () => {
    assert.equal(base64Problem(''), undefined);
    assert.equal(base64Problem('AA=='), undefined);
    assert.equal(base64Problem('AAA='), undefined);
    assert.equal(base64Problem('AAAA'), undefined);
    assert.equal(base64Problem('AA'), 'length 2 is not a padded multiple of 4');
    assert.equal(base64Problem('AA-_'), 'illegal base64 data at input byte 2', 'URL alphabet is not standard');
    assert.equal(base64Problem('A=AA'), 'illegal base64 data at input byte 2');
  });
});
