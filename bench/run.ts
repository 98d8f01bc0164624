import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * `npm run bench [section...]`: runs every benchmark section in bench/ (a file `<section>.ts` whose
 * default export resolves to that section's figures), or only the named ones, and merges the results
 * into bench/results.json, keeping the sections this run did not touch.
 */

const BENCH_DIR = __dirname;
const RESULTS = join(BENCH_DIR, 'results.json');

function sections(): string[] {
  return readdirSync(BENCH_DIR)
    .filter((file) => file.endsWith('.ts') && file !== 'run.ts' && !file.endsWith('.d.ts'))
    .map((file) => file.slice(0, -'.ts'.length))
    .sort();
}

function readResults(): Record<string, unknown> {
  if (!existsSync(RESULTS)) return {};
  const parsed: unknown = JSON.parse(readFileSync(RESULTS, 'utf8'));
  return parsed && typeof parsed === 'object' && !Array.isArray(parsed) ? (parsed as Record<string, unknown>) : {};
}

async function main(): Promise<void> {
  // Benchmarks measure the code, not log output; set before any section loads the shared logger.
  process.env.POWERTOOLS_LOG_LEVEL ??= 'SILENT';
  process.env.POWERTOOLS_METRICS_DISABLED ??= 'true';
  const wanted = process.argv.slice(2);
  const available = sections();
  const unknown = wanted.filter((name) => !available.includes(name));
  if (unknown.length > 0)
    throw new Error(`no benchmark section ${unknown.join(', ')}; there are: ${available.join(', ')}`);
  const started = Date.now();
  const fresh: Record<string, unknown> = {};
  for (const name of wanted.length > 0 ? wanted : available) {
    const module = (await import(join(BENCH_DIR, `${name}.ts`))) as { default?: unknown };
    // tsx may wrap a CommonJS module's exports once more under `default`.
    const run =
      typeof module.default === 'function' ? module.default : (module.default as { default?: unknown })?.default;
    if (typeof run !== 'function') {
      console.log(`bench: ${name}.ts has no default export to run; skipped`);
      continue;
    }
    console.log(`bench: ${name}...`);
    fresh[name] = await run((line: string) => console.log(`  ${line}`));
  }
  // Read again just before writing: another section may have been written meanwhile.
  const merged = { ...readResults(), ...fresh };
  writeFileSync(RESULTS, `${JSON.stringify(merged, null, 2)}\n`);
  console.log(JSON.stringify(fresh, null, 2));
  console.log(`bench: wrote ${RESULTS} in ${Math.round((Date.now() - started) / 1000)} s`);
}

/**
 * The benchmarks load the real handlers, and @middy/core ships ESM only with an `import`-only export
 * map. Under tsx's CommonJS mode `require` finds no entry unless Node resolves with the `import`
 * condition (then require(esm) loads it), so the run starts itself again with that condition.
 */
const CONDITION = '--conditions=import';
const hasCondition = [...process.execArgv, ...(process.env.NODE_OPTIONS ?? '').split(/\s+/)].includes(CONDITION);

const requested = process.argv.slice(2);
if (hasCondition && requested.length !== 1 && !process.env.BENCH_IN_PROCESS) {
  // Each section in a process of its own: sections load the handlers, whose clients are built once per
  // process from the environment, and one section's emulator must not be another's.
  const names = requested.length > 0 ? requested : sections();
  for (const name of names) {
    const child = spawnSync(process.execPath, [...process.execArgv, __filename, name], { stdio: 'inherit' });
    if (child.status !== 0) process.exit(child.status ?? 1);
  }
  process.exit(0);
} else if (hasCondition) {
  main().then(
    () => process.exit(0),
    (error: unknown) => {
      console.error(error instanceof Error ? error.message : error);
      process.exit(1);
    },
  );
} else {
  const child = spawnSync(process.execPath, [...process.execArgv, CONDITION, __filename, ...process.argv.slice(2)], {
    stdio: 'inherit',
  });
  process.exit(child.status ?? 1);
}
