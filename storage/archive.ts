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

/**
 * Puts a copy in the archive: `fill` writes the temporary copy and returns the sha256 of exactly the bytes
 * it wrote; the copy then takes its place under that hash, or is dropped when the same content is already
 * there. The copy is not read back: a read right after the write comes from the page cache and proves
 * nothing the write's own result does not.
 */
async function keep(archiveDir: string, provider: string, fill: (tmp: string) => Promise<string>): Promise<{ sha256: string; archivePath: string }> {
  await mkdir(archiveDir, { recursive: true });
  // In the archive itself, so that a rename puts the copy in place.
  const tmp = join(archiveDir, `.incoming.${provider}.${process.pid}.${randomUUID()}.tmp`);
  try {
    const sha256 = await fill(tmp);
    const { dir, target } = archivePathFor(archiveDir, provider, sha256);
    await mkdir(dir, { recursive: true });
    if (await stat(target).catch(() => undefined)) await rm(tmp, { force: true });
    else await rename(tmp, target);
    return { sha256, archivePath: target };
  } catch (err) {
    await rm(tmp, { force: true });
    throw err;
  }
}

/**
 * Keeps the original bytes of a statement before anything parses them: `<archive>/<provider>/<xx>/<sha256>`
 * (content-addressed, so the same file is stored once and a corrected file lands beside the first).
 * One read: each chunk is hashed and written to the temporary copy. Hashing the original, copying it and
 * hashing the copy again took three passes (1.2–2.0 s of a 272 MB bill before its parse could start).
 */
export async function archiveOriginal(archiveDir: string, provider: string, path: string): Promise<ArchivedFile> {
  let sizeBytes = 0;
  const kept = await keep(archiveDir, provider, async (tmp) => {
    const hash = createHash('sha256');
    const out = await open(tmp, 'w');
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
    return hash.digest('hex');
  });
  return { ...kept, sizeBytes, originalName: basename(path) };
}

/** The same, for bytes that arrived over the network. */
export async function archiveBytes(archiveDir: string, provider: string, name: string, bytes: Buffer): Promise<ArchivedFile> {
  const kept = await keep(archiveDir, provider, async (tmp) => {
    await writeFile(tmp, bytes);
    return createHash('sha256').update(bytes).digest('hex');
  });
  return { ...kept, sizeBytes: bytes.length, originalName: name };
}
