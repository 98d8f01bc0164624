#!/usr/bin/env node
// `npm run lock:complete`, after any `npm install` that changes package-lock.json.
//
// The npm registry this project's machines reach serves no package built for another platform (it answers
// 404), so npm leaves those optional platform packages (biome, swc, unrs-resolver binaries for macOS,
// Windows, musl...) out of package-lock.json, and `npm ci` then refuses the lock as out of sync. Recording
// each with its platform (os, cpu, libc, read from its name) lets `npm ci` mark them inert and skip them,
// as it does on any machine of another platform.
import { execFileSync } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const OS = ['android', 'darwin', 'linux', 'win32', 'freebsd', 'openharmony', 'sunos', 'aix'];
const CPU = ['arm64', 'x64', 'ia32', 'arm', 'ppc64', 's390x', 'loong64', 'riscv64'];

/** The packages `npm ci` misses in the lock, read from its own (dry-run) verdict in a scratch copy. */
function missingPackages() {
  const dir = mkdtempSync(join(tmpdir(), 'lockcheck-'));
  try {
    for (const file of ['package.json', 'package-lock.json', '.npmrc']) cpSync(file, join(dir, file));
    try {
      execFileSync('npm', ['ci', '--dry-run', '--ignore-scripts'], { cwd: dir, stdio: 'pipe', encoding: 'utf8' });
      return [];
    } catch (error) {
      const output = `${error.stdout ?? ''}${error.stderr ?? ''}`;
      return [...output.matchAll(/Missing: (\S+?)@\S* from lock file/g)].map((m) => m[1]);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const missing = missingPackages();
const lock = JSON.parse(readFileSync('package-lock.json', 'utf8'));
for (const name of missing) {
  const parent = Object.values(lock.packages).find((pkg) => pkg.optionalDependencies?.[name]);
  if (!parent)
    throw new Error(`${name} is missing from the lock, and no package lists it as optional: run npm install`);
  const parts = name.split('/').pop().split('-');
  const os = parts.find((p) => OS.includes(p));
  const cpu = parts.find((p) => CPU.includes(p));
  const libc = parts.some((p) => p.startsWith('musl'))
    ? 'musl'
    : os === 'linux' && parts.some((p) => p.startsWith('gnu'))
      ? 'glibc'
      : undefined;
  if (!os || !cpu) throw new Error(`cannot tell the platform of ${name} from its name`);
  lock.packages[`node_modules/${name}`] = {
    version: parent.optionalDependencies[name].replace(/^[\^~=]/, ''),
    ...(parent.dev ? { dev: true } : {}),
    optional: true,
    cpu: [cpu],
    os: [os],
    ...(libc ? { libc: [libc] } : {}),
  };
}
const entries = Object.entries(lock.packages).sort(([a], [b]) => (a === '' ? -1 : b === '' ? 1 : a.localeCompare(b)));
lock.packages = Object.fromEntries(entries);
writeFileSync('package-lock.json', `${JSON.stringify(lock, null, 2)}\n`);
console.log(missing.length ? `recorded ${missing.length} optional platform packages` : 'package-lock.json is complete');
