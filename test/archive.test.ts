import { describe, expect, it } from 'vitest';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { archiveOriginal } from '../storage/archive.js';

/** Every file under `dir`, relative. */
function filesUnder(dir: string): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => join(e.parentPath ?? e.path, e.name).slice(dir.length + 1))
    .sort();
}

describe('archiveOriginal', () => {
  it('keeps the bytes under their sha256 in one read, the same file once, and leaves no temporary copy', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'recon-archive-'));
    const archive = join(dir, 'archive');
    // Over several read chunks, with a tail that is not a whole chunk.
    const bytes = randomBytes(3 * 1024 * 1024 + 12345);
    const sha = createHash('sha256').update(bytes).digest('hex');
    writeFileSync(join(dir, 'bill.csv'), bytes);

    const first = await archiveOriginal(archive, 'wechatpay', join(dir, 'bill.csv'));
    expect(first).toEqual({ sha256: sha, sizeBytes: bytes.length, archivePath: join(archive, 'wechatpay', sha.slice(0, 2), sha), originalName: 'bill.csv' });
    expect(readFileSync(first.archivePath).equals(bytes)).toBe(true);

    writeFileSync(join(dir, 'again.csv'), bytes);
    const again = await archiveOriginal(archive, 'wechatpay', join(dir, 'again.csv'));
    expect(again.archivePath).toBe(first.archivePath);
    expect(again.originalName).toBe('again.csv');
    expect(filesUnder(archive)).toEqual([join('wechatpay', sha.slice(0, 2), sha)]);
  });

  it('fails on a file it cannot read and leaves nothing behind', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'recon-archive-'));
    const archive = join(dir, 'archive');
    await expect(archiveOriginal(archive, 'alipay', join(dir, 'missing.zip'))).rejects.toThrow(/ENOENT/);
    expect(filesUnder(archive)).toEqual([]);
  });
});
