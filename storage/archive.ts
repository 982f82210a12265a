import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { copyFile, mkdir, rename, stat, writeFile } from 'node:fs/promises';
import { basename, join } from 'node:path';

export interface ArchivedFile {
  sha256: string;
  sizeBytes: number;
  /** Absolute path of the kept copy. */
  archivePath: string;
  originalName: string;
}

// Read in large chunks: each chunk waits its turn on the event loop, and beside a busy load (a ledger
// parsed while a statement is archived) 64 KiB reads stretched hashing a 259 MB file from 0.5 s to 3 s.
const HASH_CHUNK_BYTES = 1024 * 1024;

/** sha256 and size of a file, streaming. */
export async function hashFile(path: string): Promise<{ sha256: string; sizeBytes: number }> {
  const hash = createHash('sha256');
  let size = 0;
  for await (const chunk of createReadStream(path, { highWaterMark: HASH_CHUNK_BYTES })) {
    hash.update(chunk as Buffer);
    size += (chunk as Buffer).length;
  }
  return { sha256: hash.digest('hex'), sizeBytes: size };
}

function archivePathFor(archiveDir: string, provider: string, sha256: string): { dir: string; target: string } {
  const dir = join(archiveDir, provider, sha256.slice(0, 2));
  return { dir, target: join(dir, sha256) };
}

/** Moves a verified temporary copy into place, unless the same content is already there. */
async function settle(tmp: string, target: string, expected: string): Promise<void> {
  const check = await hashFile(tmp);
  if (check.sha256 !== expected) throw new Error(`archive copy ${tmp} does not match its sha256`);
  await rename(tmp, target);
}

/**
 * Keeps the original bytes of a statement before anything parses them: `<archive>/<provider>/<xx>/<sha256>`
 * (content-addressed, so the same file is stored once and a corrected file lands beside the first).
 * The copy is verified against the hash before it takes its place.
 */
export async function archiveOriginal(archiveDir: string, provider: string, path: string): Promise<ArchivedFile> {
  const { sha256, sizeBytes } = await hashFile(path);
  const { dir, target } = archivePathFor(archiveDir, provider, sha256);
  await mkdir(dir, { recursive: true });
  if (!(await stat(target).catch(() => undefined))) {
    const tmp = `${target}.${process.pid}.tmp`;
    await copyFile(path, tmp);
    await settle(tmp, target, sha256);
  }
  return { sha256, sizeBytes, archivePath: target, originalName: basename(path) };
}

/** The same, for bytes that arrived over the network. */
export async function archiveBytes(archiveDir: string, provider: string, name: string, bytes: Buffer): Promise<ArchivedFile> {
  const sha256 = createHash('sha256').update(bytes).digest('hex');
  const { dir, target } = archivePathFor(archiveDir, provider, sha256);
  await mkdir(dir, { recursive: true });
  if (!(await stat(target).catch(() => undefined))) {
    const tmp = `${target}.${process.pid}.tmp`;
    await writeFile(tmp, bytes);
    await settle(tmp, target, sha256);
  }
  return { sha256, sizeBytes: bytes.length, archivePath: target, originalName: name };
}
