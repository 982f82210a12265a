import { createHash, randomUUID } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdir, open, rename, rm, stat, writeFile } from 'node:fs/promises';
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
 * One read: each chunk is hashed and written to a temporary copy, which takes its place once the whole
 * file is in; the copy holds exactly the bytes hashed. Hashing the original, copying it and hashing the
 * copy again took three passes (1.2–1.5 s of a 272 MB bill before its parse could start), and the check
 * read the copy back from the page cache, which proves nothing the write's own result does not.
 */
export async function archiveOriginal(archiveDir: string, provider: string, path: string): Promise<ArchivedFile> {
  await mkdir(archiveDir, { recursive: true });
  const tmp = join(archiveDir, `.incoming.${provider}.${process.pid}.${randomUUID()}.tmp`);
  const hash = createHash('sha256');
  let sizeBytes = 0;
  const out = await open(tmp, 'w');
  try {
    try {
      for await (const chunk of createReadStream(path, { highWaterMark: HASH_CHUNK_BYTES })) {
        const bytes = chunk as Buffer;
        hash.update(bytes);
        sizeBytes += bytes.length;
        // The stream reads the next chunk while this one is hashed and written.
        for (let at = 0; at < bytes.length; ) at += (await out.write(bytes, at)).bytesWritten;
      }
    } finally {
      await out.close();
    }
    const sha256 = hash.digest('hex');
    const written = (await stat(tmp)).size;
    if (written !== sizeBytes) throw new Error(`archive copy ${tmp} has ${written} bytes, not the ${sizeBytes} read`);
    const { dir, target } = archivePathFor(archiveDir, provider, sha256);
    await mkdir(dir, { recursive: true });
    if (await stat(target).catch(() => undefined)) await rm(tmp, { force: true });
    else await rename(tmp, target);
    return { sha256, sizeBytes, archivePath: target, originalName: basename(path) };
  } catch (err) {
    await rm(tmp, { force: true });
    throw err;
  }
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
