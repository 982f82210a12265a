#!/usr/bin/env -S node --max-old-space-size=384
// The heap cap keeps peak memory bounded whatever the file size: every stage streams, so what a larger
// heap would hold is garbage the collector has not been pressed to reclaim yet.
import { main } from './program.js';

// Output piped into `head` and closed early is not a failure of the command.
process.stdout.on('error', (err: NodeJS.ErrnoException) => {
  if (err.code === 'EPIPE') process.exit(process.exitCode ?? 0);
  throw err;
});

main(process.argv.slice(2)).then((code) => {
  process.exitCode = code;
});
