import { readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';

/** The temporary name a file is written under before it is renamed into place (one per process). */
export const tempPathFor = (path: string): string => `${path}.${process.pid}.tmp`;

const TEMP = /\.(\d+)\.tmp$/;

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Removes the temporary files a writer killed mid-write (SIGKILL, a crash) left in `dir`: those of a
 * process that no longer runs on this machine. A live writer's files are left alone.
 */
export async function removeAbandonedTemps(dir: string): Promise<void> {
  const names = await readdir(dir).catch(() => [] as string[]);
  for (const name of names) {
    const m = TEMP.exec(name);
    if (m && Number.parseInt(m[1]!, 10) !== process.pid && !alive(Number.parseInt(m[1]!, 10))) {
      await rm(join(dir, name), { force: true });
    }
  }
}
