// Sizing as kubelet's calculateEmptyDirMemorySize, mountinfo parsing, and a real tmpfs mount/unmount
// (root) in a temp dir with a real journal.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, statfsSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import type { Container, Pod } from '../model/types.js';
import { Journal, readJournal } from '../state/journal.js';
import { memoryVolumeBytes, mountTmpfs, podMemoryLimit, readMounts, unmountUnder } from './tmpfs.js';

const GiB = 2 ** 30;
const MiB = 2 ** 20;
const pod = (containers: Container[], initContainers: Container[] = []): Pod => ({
  apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p' }, spec: { containers, initContainers },
});
const c = (name: string, memory?: string, restartPolicy?: string): Container =>
  ({ name, ...(memory ? { resources: { limits: { memory } } } : {}), ...(restartPolicy ? { restartPolicy } : {}) });
const mem = (sizeLimit?: string) => ({ name: 'cache', emptyDir: { medium: 'Memory', ...(sizeLimit ? { sizeLimit } : {}) } });

describe('Memory emptyDir size', () => {
  it('is the node memory without limits, sizeLimit when smaller, never more than the node', () => {
    assert.equal(memoryVolumeBytes(pod([c('a')]), mem(), 8 * GiB), 8 * GiB);
    assert.equal(memoryVolumeBytes(pod([c('a')]), mem('64Mi'), 8 * GiB), 64 * MiB);
    assert.equal(memoryVolumeBytes(pod([c('a')]), mem('100M'), 8 * GiB), 100e6);
    assert.equal(memoryVolumeBytes(pod([c('a')]), mem('16Gi'), 8 * GiB), 8 * GiB);
  });
  it('is capped by the pod memory limit only when every container declares one', () => {
    assert.equal(podMemoryLimit(pod([c('a', '256Mi'), c('b', '256Mi')])), 512 * MiB);
    assert.equal(podMemoryLimit(pod([c('a', '256Mi'), c('b')])), undefined);
    assert.equal(podMemoryLimit(pod([c('a', '100Mi')], [c('init', '1Gi'), c('proxy', '50Mi', 'Always')])), GiB, 'a regular init container runs alone');
    assert.equal(podMemoryLimit(pod([c('a', '100Mi')], [c('init', '10Mi'), c('proxy', '50Mi', 'Always')])), 150 * MiB, 'sidecars add up with the app');
    assert.equal(memoryVolumeBytes(pod([c('a', '256Mi')]), mem(), 8 * GiB), 256 * MiB);
    assert.equal(memoryVolumeBytes(pod([c('a', '256Mi')]), mem('1Gi'), 8 * GiB), 256 * MiB);
    assert.equal(memoryVolumeBytes(pod([c('a', '256Mi')]), mem('8Mi'), 8 * GiB), 8 * MiB);
  });
  it('refuses a sizeLimit that is not a quantity, naming the volume', () => {
    assert.throws(() => memoryVolumeBytes(pod([c('a')]), mem('64MB'), GiB), /volume "cache": emptyDir.sizeLimit: "64MB" is not a Kubernetes quantity/);
  });
});

describe('mountinfo', () => {
  it('reads mount points (octal escapes decoded) and fs types', () => {
    const text = '36 35 98:0 / /mnt/a\\040b rw,noatime master:1 - tmpfs tmpfs rw,size=8192k\n37 35 98:0 / /proc rw - proc proc rw\n';
    assert.deepEqual(readMounts(text), [{ target: '/mnt/a b', fstype: 'tmpfs' }, { target: '/proc', fstype: 'proc' }]);
  });
});

describe('tmpfs mount (real)', () => {
  const root = mkdtempSync(join(tmpdir(), 'skl-tmpfs-'));
  after(async () => { await unmountUnder(root); rmSync(root, { recursive: true, force: true }); });

  it('mounts a sized tmpfs once, journaled first, and unmounts everything under a dir', async () => {
    const journal = new Journal(join(root, 'journal.jsonl'));
    const dir = join(root, 'pods', 'uid', 'volumes', 'cache');
    await mountTmpfs(dir, 4 * MiB, journal);
    await mountTmpfs(dir, 4 * MiB, journal); // idempotent: the token refresh prepares volumes again
    assert.equal(readMounts().filter((m) => m.target === dir && m.fstype === 'tmpfs').length, 1);
    const fs = statfsSync(dir);
    assert.equal(fs.blocks * fs.bsize, 4 * MiB);
    assert.deepEqual(readJournal(journal.path), [{ t: 'mount', path: dir }]);
    assert.throws(() => writeFileSync(join(dir, 'big'), Buffer.alloc(5 * MiB)), /ENOSPC/);
    assert.equal(await unmountUnder(join(root, 'pods')), 1);
    assert.ok(!readFileSync('/proc/self/mountinfo', 'utf8').includes(root));
  });
});
