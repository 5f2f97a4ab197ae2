#!/usr/bin/env -S node --max-semi-space-size=64
// The options are those of cli/node-flags.ts (for `vigil serve`; harmless for the other commands).
// The command line lives in the compiled tree; `npm ci` builds it through the `prepare` script.
import '../dist/cli/run.js';
