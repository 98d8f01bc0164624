import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { isBuiltin } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { type BuildOptions, build, type Plugin } from 'esbuild';
import { parse } from 'yaml';
import { baselineBundle, benchEnv, eagerSdkClientPackages, sdkClientPackages } from '../bench/bundle';

/**
 * `npx tsx scripts/import-profile.ts [function...] [--runs N]` (serverless.yml's names; lookup and register unless
 * said): where a function bundle's import time goes, against the bare bundle of the same SDK clients + middy that
 * `npm run bench -- bundle` compares it with (issue 13).
 *
 * Each function is bundled as serverless.yml's `custom.esbuild` says (without `osls package`, so in seconds), and
 * measured in fresh Node processes (the median of `--runs`):
 * - import: milliseconds to `require` the minified bundle, as bench/bundle.ts measures it;
 * - compile: CPU milliseconds V8 takes to compile the bundle without running it (`vm.compileFunction`): esbuild puts
 *   every module's top-level code in one function, compiled whole before anything runs, so this grows with the code;
 * - per package: milliseconds and minor page faults of each package's top-level code while the bundle loads, read
 *   from markers put between esbuild's modules (a build that keeps whitespace, so its `// path` comments), with a
 *   young generation large enough that no collection interrupts the import (the import line says what GC took),
 *   and Node's own modules loaded beforehand (the import line counts them; they are the same on both sides).
 */

const ROOT = join(__dirname, '..');
const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: { runs: { type: 'string', default: '21' } },
});
const RUNS = Number(values.runs);
const FUNCTIONS = positionals.length ? positionals : ['lookup', 'register'];

interface ServerlessYml {
  custom: { esbuild: Record<string, unknown> & { exclude?: string[]; plugins?: string } };
  functions: Record<string, { handler: string }>;
}

/** serverless.yml; CloudFormation's short forms (!GetAtt) are left unresolved (only esbuild and handlers are read). */
const serverlessYml = () =>
  parse(readFileSync(join(ROOT, 'serverless.yml'), 'utf8'), { logLevel: 'silent' }) as ServerlessYml;

/** The source file of a function (serverless.yml `handler: functions/create-service.handler`). */
function entryOf(fn: string): string {
  const handler = serverlessYml().functions[fn]?.handler;
  if (!handler) throw new Error(`serverless.yml has no function ${fn}`);
  return join(ROOT, `${handler.slice(0, handler.lastIndexOf('.'))}.ts`);
}

/** serverless.yml's custom.esbuild, as esbuild options. */
function functionBuildOptions(): BuildOptions {
  const { exclude, plugins, ...options } = serverlessYml().custom.esbuild;
  return {
    ...(options as BuildOptions),
    external: exclude ?? [],
    plugins: plugins ? (require(join(ROOT, plugins)) as Plugin[]) : [],
  };
}

/** Minified as deployed, or only its names and syntax (the same code, with esbuild's `// path` module comments). */
const DEPLOYED: BuildOptions = { minify: true };
const COMMENTED: BuildOptions = { minify: false, minifySyntax: true, minifyIdentifiers: true };

async function bundleFunction(fn: string, flavour: BuildOptions): Promise<string> {
  const out = await build({
    ...functionBuildOptions(),
    ...flavour,
    entryPoints: [entryOf(fn)],
    write: false,
  });
  const [file] = out.outputFiles;
  if (!file) throw new Error(`esbuild produced no bundle of ${fn}`);
  return file.text;
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] ?? Number.NaN;

/** Runs `script` in a fresh Node process with the bench's environment; its stdout, parsed as JSON. */
function runNode<T>(script: string, flags: string[] = []): T {
  return JSON.parse(
    execFileSync(process.execPath, [...flags, '--no-deprecation', '-e', script], { env: benchEnv(), encoding: 'utf8' }),
  ) as T;
}

/** Per-package figures are taken with a young generation that no import fills: no collection lands in a package. */
const NO_SCAVENGE = ['--min-semi-space-size=64', '--max-semi-space-size=64'];

/** Milliseconds to `require` the file, and of them the garbage collector's (V8's `gc` performance entries). */
function importMs(file: string): { ms: number; gcMs: number } {
  return runNode(
    "const {PerformanceObserver}=require('perf_hooks');let gcMs=0;" +
      'const o=new PerformanceObserver((l)=>{for(const e of l.getEntries())gcMs+=e.duration});o.observe({entryTypes:["gc"]});' +
      `const t=process.hrtime.bigint();require(${JSON.stringify(file)});const ms=Number(process.hrtime.bigint()-t)/1e6;` +
      // The entries of collections during the import are delivered once it has returned.
      'setTimeout(()=>{process.stdout.write(JSON.stringify({ms,gcMs}));process.exit(0)},20)',
  );
}

function compileMs(file: string): number {
  return runNode<number>(
    `const src=require('fs').readFileSync(${JSON.stringify(file)},'utf8');const c=process.cpuUsage();` +
      "require('vm').compileFunction(src,['exports','require','module','__filename','__dirname']);" +
      'const u=process.cpuUsage(c);process.stdout.write(String((u.user+u.system)/1e3))',
  );
}

/** The package (or our own file) a module path of esbuild's comments belongs to. */
function ownerOf(path: string): string {
  const match = /node_modules\/((@[^/]+\/)?[^/]+)/.exec(path);
  return match?.[1] ?? path;
}

/** Per owner: median milliseconds and page faults of its top-level code, plus what comes before the first module. */
function perModule(source: string, file: string): Map<string, { ms: number; faults: number }> {
  const owners: string[] = ['(compile, runtime helpers)'];
  const marked = source
    .split('\n')
    .map((line) => {
      const match = /^\/\/ (\S+\.(?:[cm]?js|ts|json))$/.exec(line);
      if (!match?.[1]) return line;
      owners.push(ownerOf(match[1]));
      return `${line}\n__mark();`;
    })
    .join('\n');
  writeFileSync(file, `${marked}\n__mark();`);
  owners.push('(end)');
  // Node's own modules the bundle requires are loaded first: otherwise their cost lands in whichever package happens
  // to require one first (the logger requires node:crypto before the SDK does, so it would be charged for it).
  const builtins = [...new Set([...source.matchAll(/require\("((?:node:)?[a-z_/]+)"\)/g)].map((m) => m[1] as string))]
    .filter((name) => isBuiltin(name))
    .map((name) => `require(${JSON.stringify(name)});`)
    .join('');
  const samples: { ms: number[]; faults: number[] }[] = [];
  for (let i = 0; i < RUNS; i += 1) {
    samples.push(
      runNode(
        `${builtins}const m=[],f=[];globalThis.__mark=()=>{m.push(process.hrtime.bigint());f.push(process.resourceUsage().minorPageFault)};` +
          `__mark();require(${JSON.stringify(file)});` +
          'process.stdout.write(JSON.stringify({ms:m.slice(1).map((t,i)=>Number(t-m[i])/1e6),faults:f.slice(1).map((n,i)=>n-f[i])}))',
        NO_SCAVENGE,
      ),
    );
  }
  const result = new Map<string, { ms: number; faults: number }>();
  for (let k = 0; k < owners.length - 1; k += 1) {
    const owner = owners[k] as string;
    const entry = result.get(owner) ?? { ms: 0, faults: 0 };
    entry.ms += median(samples.map((s) => s.ms[k] ?? 0));
    entry.faults += median(samples.map((s) => s.faults[k] ?? 0));
    result.set(owner, entry);
  }
  return result;
}

async function profile(fn: string, work: string): Promise<void> {
  const deployed = await bundleFunction(fn, DEPLOYED);
  const own = join(work, `${fn}.js`);
  writeFileSync(own, deployed);
  const eager = await eagerSdkClientPackages(own, deployed, sdkClientPackages(deployed));
  const bare = join(work, `${fn}-baseline.js`);
  writeFileSync(bare, await baselineBundle(eager));

  const imports = { own: [] as { ms: number; gcMs: number }[], bare: [] as { ms: number; gcMs: number }[] };
  const compiles = { own: [] as number[], bare: [] as number[] };
  for (let i = 0; i < RUNS; i += 1) {
    imports.own.push(importMs(own));
    imports.bare.push(importMs(bare));
    compiles.own.push(compileMs(own));
    compiles.bare.push(compileMs(bare));
  }
  const ownModules = perModule(await bundleFunction(fn, COMMENTED), join(work, `${fn}.marked.js`));
  const bareModules = perModule(await baselineBundle(eager, COMMENTED), join(work, `${fn}-baseline.marked.js`));

  const fmt = (n: number) => n.toFixed(2).padStart(8);
  console.log(`\n${fn} (baseline: ${eager.join(', ')} + @middy/core), ${RUNS} fresh processes each, medians`);
  console.log(`  bytes    ${String(deployed.length).padStart(8)} ${String(readFileSync(bare).length).padStart(8)}`);
  const ms = (side: { ms: number; gcMs: number }[], key: 'ms' | 'gcMs') => median(side.map((sample) => sample[key]));
  console.log(`  import   ${fmt(ms(imports.own, 'ms'))} ${fmt(ms(imports.bare, 'ms'))} ms`);
  console.log(`   of it GC${fmt(ms(imports.own, 'gcMs'))} ${fmt(ms(imports.bare, 'gcMs'))} ms`);
  console.log(`  compile  ${fmt(median(compiles.own))} ${fmt(median(compiles.bare))} ms (CPU)`);
  console.log('  top-level code per package:        function       baseline  (ms, page faults)');
  const owners = [...new Set([...ownModules.keys(), ...bareModules.keys()])].sort(
    (a, b) => (ownModules.get(b)?.ms ?? 0) - (ownModules.get(a)?.ms ?? 0),
  );
  for (const owner of owners) {
    const a = ownModules.get(owner);
    const b = bareModules.get(owner);
    if ((a?.ms ?? 0) < 0.05 && (b?.ms ?? 0) < 0.05) continue;
    const cell = (x?: { ms: number; faults: number }) =>
      x ? `${fmt(x.ms)} ${String(x.faults).padStart(5)}` : ' '.repeat(14);
    console.log(`  ${owner.padEnd(34)} ${cell(a)}  ${cell(b)}`);
  }
}

async function main(): Promise<void> {
  const work = mkdtempSync(join(tmpdir(), 'registrar-import-profile-'));
  try {
    for (const fn of FUNCTIONS) await profile(fn, work);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
