#!/usr/bin/env node
// The operator's command. It runs the TypeScript sources directly (tsx), so it needs no build step.
require('tsx/cjs');
const { main } = require('../cli/main.ts');

main(process.argv.slice(2), {
  stdin: process.stdin,
  stdout: process.stdout,
  stderr: process.stderr,
  env: process.env,
}).then(
  (code) => {
    process.exitCode = code;
  },
  (error) => {
    process.stderr.write(`registrar: ${error?.message ? error.message : String(error)}\n`);
    process.exitCode = 1;
  },
);
