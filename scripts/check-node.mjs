#!/usr/bin/env node
// Run first by `npm test`, `npm start` and `npm run bench`: they must run on the Node the functions deploy to.
//
// npm puts node_modules/.bin first on the PATH of every script, and on Linux (x64, arm64; glibc) the optional
// dependency node-linux-<cpu> puts the deploy runtime's `node` there, so this script and everything after it
// in the same script line run on it. Elsewhere (macOS and Windows, whose packages the project's registry does not
// serve; musl Linux, where node-linux-* does not run: install with --omit=optional) the `node` on the PATH is used
// when it is the deploy runtime's major version, a newer one with a warning; an older one is refused, saying what
// to install.
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');

const runtime = /^\s*runtime:\s*nodejs(\d+)\.x\s*$/m.exec(readFileSync(join(ROOT, 'serverless.yml'), 'utf8'));
if (!runtime?.[1]) throw new Error('serverless.yml names no provider runtime nodejsNN.x');
const wanted = Number(runtime[1]);
const running = Number(process.versions.node.split('.')[0]);
const platformPackage = `node-${process.platform}-${process.arch}`;
const optional = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')).optionalDependencies ?? {};

if (running < wanted) {
  const fix =
    platformPackage in optional
      ? existsSync(join(ROOT, 'node_modules', platformPackage))
        ? `Run it through npm (npm test, npm start, npm run bench, npx ...): npm puts node_modules/.bin first on ` +
          `the PATH, where ${platformPackage} put Node ${wanted}.`
        : `${platformPackage}, which brings Node ${wanted}, is not installed (npm ci --omit=optional leaves it out): ` +
          `run npm ci, or install Node ${wanted} (nodejs.org, nvm install ${wanted}, ...).`
      : `npm serves this project no Node package for ${process.platform}-${process.arch}, so it runs on the node ` +
        `on your PATH: install Node ${wanted} (nodejs.org, nvm install ${wanted}, ...) and run it again.`;
  process.stderr.write(
    `This project tests and runs on Node ${wanted} (its functions deploy on nodejs${wanted}.x), ` +
      `but this is Node ${process.versions.node} (${process.execPath}).\n${fix}\n`,
  );
  process.exit(1);
}
if (running > wanted) {
  process.stderr.write(
    `Note: running on Node ${process.versions.node}; the functions deploy on nodejs${wanted}.x ` +
      `(install Node ${wanted} to test on what deploys).\n`,
  );
}
