#!/usr/bin/env -S node --max-old-space-size=384 --max-semi-space-size=32
// The heap cap keeps peak memory bounded whatever the file size: every stage streams, so what a larger
// heap would hold is garbage the collector has not been pressed to reclaim yet. Streaming makes
// short-lived objects by the million (cells, lines, COPY text): a young generation of 32 MB instead of
// 16 MB lets most of them die before a scavenge copies them (about 4 s less CPU at 1M lines).
import { main } from './program.js';

// Output piped into `head` and closed early is not a failure of the command.
process.stdout.on('error', (err: NodeJS.ErrnoException) => {
  if (err.code === 'EPIPE') process.exit(process.exitCode ?? 0);
  throw err;
});

main(process.argv.slice(2)).then((code) => {
  process.exitCode = code;
});
