/**
 * Runs the command line and turns errors into messages and exit codes: 2 for wrong usage (any error with code
 * `USAGE`, also one the store raises, such as an order reused with other terms), 1 for failures, with a stack
 * trace only for errors nobody expected.
 */
import { VigilError, isUsageError } from '../core/index.js';
import { redactTokens } from '../store/index.js';
import { main } from './main.js';
import type { Io } from './commands.js';

// A reader that stops early (`vigil lists list | head -1`) closes the pipe (EPIPE), and a terminal closed under a
// running command (SIGHUP) fails every later write to it (EIO): what is left to print has nobody to read it, which
// is not a failure of the command. The command still runs to its end, unprinted: `simulate` must still revoke the
// devices it enrolled. Any other error on stdout or stderr is a failure.
const gone = { stdout: false, stderr: false };
for (const name of ['stdout', 'stderr'] as const) {
  process[name].on('error', (err: NodeJS.ErrnoException) => {
    if (err.code === 'EPIPE' || err.code === 'EIO') { gone[name] = true; return }
    throw err;
  });
}

const io: Io = {
  out: (l) => { if (!gone.stdout) process.stdout.write(l + '\n') },
  // Messages may echo what was typed, and a token may have been pasted anywhere: its secret is never printed.
  err: (l) => { if (!gone.stderr) process.stderr.write(redactTokens(l) + '\n') },
  isTTY: Boolean(process.stderr.isTTY),
};
main(process.argv.slice(2), io).then(
  (code) => { process.exitCode = code },
  (err: unknown) => {
    if (isUsageError(err)) {
      io.err(`vigil: ${err.message}`);
      process.exitCode = 2;
    } else if (err instanceof VigilError) {
      io.err(`vigil: ${err.message}`);
      process.exitCode = 1;
    } else {
      io.err(`vigil: unexpected error: ${err instanceof Error ? err.stack : String(err)}`);
      process.exitCode = 1;
    }
  },
);
