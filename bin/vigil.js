#!/usr/bin/env node
// The command line lives in the compiled tree; `npm ci` builds it through the `prepare` script.
import '../dist/cli/run.js';
