import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { copyFile, mkdir, rename, stat } from 'node:fs/promises';
import { basename, join } from 'node:path';

export interface ArchivedFile {
  sha256: string;
  sizeBytes: number;
  /** Absolute path of the kept copy. */
  archivePath: string;
  originalName: string;
}

/** sha256 and size of a file, streaming. */
export async function hashFile(path: string): Promise<{ sha256: string; sizeBytes: number }> {
  const hash = createHash('sha256');
  let size = 0;
  for await (const chunk of createReadStream(path)) {
    hash.update(chunk as Buffer);
    size += (chunk as Buffer).length;
  }
  return { sha256: hash.digest('hex'), sizeBytes: size };
}

/**
 * Keeps the original bytes of a statement before anything parses them: `<archive>/<provider>/<sha256>`
 * (content-addressed, so the same file is stored once and a corrected file lands beside the first).
 * The copy is verified against the hash before it replaces anything.
 */
export async function archiveOriginal(archiveDir: string, provider: string, path: string): Promise<ArchivedFile> {
  const { sha256, sizeBytes } = await hashFile(path);
  const dir = join(archiveDir, provider, sha256.slice(0, 2));
  const target = join(dir, sha256);
  await mkdir(dir, { recursive: true });
  const existing = await stat(target).catch(() => undefined);
  if (!existing) {
    const tmp = `${target}.${process.pid}.tmp`;
    await copyFile(path, tmp);
    const check = await hashFile(tmp);
    if (check.sha256 !== sha256) throw new Error(`archive copy of ${path} does not match its sha256`);
    await rename(tmp, target);
  }
  return { sha256, sizeBytes, archivePath: target, originalName: basename(path) };
}
