import { execFile } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { type BuildOptions, build, type Plugin } from 'esbuild';
import { strFromU8, unzipSync } from 'fflate';
import { packageService } from '../support/package-service';

/**
 * `npm run bench bundle`: the size of each function's deployment zip (as `osls package` makes it, offline)
 * and the import time of its bundle against a bare bundle of the same AWS SDK clients + middy, measured in
 * the same run, each in a fresh Node process.
 */

const ROOT = join(__dirname, '..');
/** Budgets of issue 5, zipped. */
export const BUDGET_BYTES: Record<string, number> = { lookup: 160 * 1024, register: 230 * 1024 };
/**
 * Fresh processes per bundle; the median is kept (import time varies with the machine's other work: with 15,
 * the ratio moved by about 0.1 between runs).
 */
const SAMPLES = 31;

/** The `bundle` section of bench/results.json. */
export interface BundleSection {
  /** The largest function zip. */
  maxZipBytes: number;
  zipBytes: Record<string, number>;
  budgetBytes: Record<string, number>;
  withinBudget: boolean;
  /** Median milliseconds to `require` each function's bundle, and its bare SDK clients + middy baseline. */
  importMs: Record<string, { bundle: number; baseline: number }>;
  importRatioByFunction: Record<string, number>;
  /** The worst ratio over the functions (goal <= 1.1). */
  importRatioVsBaseline: number;
  /** The SDK client packages of each baseline: those the function's bundle loads while it is imported. */
  baselineClients: Record<string, string[]>;
  samples: number;
  node: string;
}

/** The packages a bundle took its AWS SDK clients from (`@aws-sdk/client-*`), read from its source. */
export function sdkClientPackages(bundle: string): string[] {
  const found = new Set<string>();
  for (const match of bundle.matchAll(/"(@aws-sdk\/client-[a-z0-9-]+)"/g)) if (match[1]) found.add(match[1]);
  return [...found].sort();
}

/**
 * Of those packages, the ones whose client the bundle loads while it is imported: a client the function loads
 * lazily (a dynamic `import()`, which esbuild keeps in the bundle but evaluates only when called) is left out
 * of the baseline, or the baseline would pay for a client the function does not load at cold start. Read from
 * V8's block coverage of one import: the package's name literal (its inlined package.json) ran or did not.
 */
export async function eagerSdkClientPackages(file: string, bundle: string, packages: string[]): Promise<string[]> {
  const coverageDir = await mkdtemp(join(tmpdir(), 'registrar-bundle-coverage-'));
  try {
    await new Promise<void>((resolve, reject) => {
      execFile(
        process.execPath,
        ['--no-deprecation', '-e', `require(${JSON.stringify(file)})`],
        { env: { ...benchEnv(), NODE_V8_COVERAGE: coverageDir } },
        (error, _stdout, stderr) => (error ? reject(new Error(`importing ${file} failed: ${stderr}`)) : resolve()),
      );
    });
    const ranges: { startOffset: number; endOffset: number; count: number }[] = [];
    for (const name of await readdir(coverageDir)) {
      const report = JSON.parse(await readFile(join(coverageDir, name), 'utf8')) as {
        result: { url: string; functions: { ranges: typeof ranges }[] }[];
      };
      for (const script of report.result) {
        if (script.url === pathToFileURL(file).href) for (const fn of script.functions) ranges.push(...fn.ranges);
      }
    }
    if (ranges.length === 0) throw new Error(`no coverage of ${file}`);
    return packages.filter((pkg) => {
      const at = bundle.indexOf(JSON.stringify(pkg));
      // The innermost range holding the literal says whether it ran.
      let inner: (typeof ranges)[number] | undefined;
      for (const range of ranges) {
        if (range.startOffset <= at && at < range.endOffset) {
          if (!inner || range.endOffset - range.startOffset < inner.endOffset - inner.startOffset) inner = range;
        }
      }
      return inner === undefined || inner.count > 0;
    });
  } finally {
    await rm(coverageDir, { recursive: true, force: true });
  }
}

/** The client class a package exports (`ECSClient`, `ServiceDiscoveryClient`, ...). */
function clientClassOf(pkg: string): string {
  const exported = Object.keys(require(pkg) as Record<string, unknown>).filter(
    (name) => name.endsWith('Client') && !name.startsWith('_'),
  );
  if (exported.length !== 1) throw new Error(`${pkg} exports ${exported.length} client classes`);
  return exported[0] as string;
}

/**
 * A bare handler module with the same SDK clients (each built once, as the functions do at cold start) and
 * middy, bundled with the functions' esbuild options and plugins, so only our own code makes the difference.
 * `overrides` change the build (scripts/import-profile.ts keeps esbuild's module comments).
 */
export async function baselineBundle(packages: string[], overrides: BuildOptions = {}): Promise<string> {
  const imports = packages.map((pkg, i) => `import { ${clientClassOf(pkg)} as C${i} } from '${pkg}';`);
  const clients = packages.map((_, i) => `new C${i}({ region: 'us-east-1' })`);
  const source = [
    ...imports,
    "import middy from '@middy/core';",
    `export const clients = [${clients.join(', ')}];`,
    'export const handler = middy().handler(async () => clients.length);',
  ].join('\n');
  const plugins = require(join(ROOT, 'serverless', 'esbuild-plugins.js')) as Plugin[];
  const out = await build({
    stdin: { contents: source, resolveDir: ROOT, loader: 'js' },
    bundle: true,
    minify: true,
    format: 'cjs',
    target: 'node22',
    platform: 'node',
    mainFields: ['module', 'main'],
    plugins,
    ...overrides,
    write: false,
  });
  const [file] = out.outputFiles;
  if (!file) throw new Error('esbuild produced no baseline bundle');
  return file.text;
}

/** The environment of every measured process: what the functions' cold start reads, and fake credentials. */
export function benchEnv(): Record<string, string> {
  return {
    PATH: process.env.PATH ?? '',
    AWS_REGION: 'us-east-1',
    AWS_ACCESS_KEY_ID: 'bench',
    AWS_SECRET_ACCESS_KEY: 'bench',
    NAMESPACE: 'kudos.local',
    TASK_TABLE: 'bench-tasks',
    POWERTOOLS_LOG_LEVEL: 'SILENT',
    POWERTOOLS_SERVICE_NAME: 'ecs-cloudmap-registrar',
    POWERTOOLS_METRICS_NAMESPACE: 'EcsCloudMapRegistrar',
  };
}

/** Milliseconds one fresh Node process takes to `require` the file. */
function importOnce(file: string): Promise<number> {
  const script = `const t=process.hrtime.bigint();require(${JSON.stringify(file)});process.stdout.write(String(Number(process.hrtime.bigint()-t)/1e6))`;
  return new Promise((resolve, reject) => {
    execFile(process.execPath, ['--no-deprecation', '-e', script], { env: benchEnv() }, (error, stdout, stderr) => {
      if (error) reject(new Error(`importing ${file} failed: ${stderr || error.message}`));
      else resolve(Number(stdout));
    });
  });
}

const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? Number.NaN;
};
const round = (value: number, digits: number) => Math.round(value * 10 ** digits) / 10 ** digits;

/** Packages the service, then measures each function's zip and import time against its baseline. */
export async function runBundleBench(log: (line: string) => void = () => {}): Promise<BundleSection> {
  const work = await mkdtemp(join(tmpdir(), 'registrar-bundle-bench-'));
  try {
    const bundles: Record<string, string> = {};
    const { zipBytes } = await packageService({}, 'bench', async (artifacts) => {
      for (const fn of Object.keys(BUDGET_BYTES)) {
        const path = `functions/${fn}.js`;
        const handler = unzipSync(await readFile(join(artifacts, `${fn}.zip`)), {
          filter: (file) => file.name === path,
        })[path];
        if (!handler) throw new Error(`${fn}.zip has no ${path}`);
        bundles[fn] = strFromU8(handler);
      }
    });
    log(`zip bytes: ${JSON.stringify(zipBytes)}`);

    const importMs: BundleSection['importMs'] = {};
    const ratios: Record<string, number> = {};
    const baselineClients: Record<string, string[]> = {};
    for (const [fn, bundle] of Object.entries(bundles)) {
      const bundleFile = join(work, `${fn}.js`);
      const baselineFile = join(work, `${fn}-baseline.js`);
      await writeFile(bundleFile, bundle);
      const contained = sdkClientPackages(bundle);
      const eager = await eagerSdkClientPackages(bundleFile, bundle, contained);
      baselineClients[fn] = eager;
      const lazy = contained.filter((pkg) => !eager.includes(pkg));
      log(
        `${fn}: baseline clients ${eager.join(', ')}${lazy.length ? ` (loaded lazily, left out: ${lazy.join(', ')})` : ''}`,
      );
      await writeFile(baselineFile, await baselineBundle(eager));
      const own: number[] = [];
      const bare: number[] = [];
      // Interleaved, so a slow moment of the machine weighs on both sides alike.
      for (let i = 0; i < SAMPLES; i += 1) {
        own.push(await importOnce(bundleFile));
        bare.push(await importOnce(baselineFile));
      }
      importMs[fn] = { bundle: round(median(own), 2), baseline: round(median(bare), 2) };
      ratios[fn] = round(median(own) / median(bare), 3);
      log(`${fn}: import ${importMs[fn]?.bundle} ms vs baseline ${importMs[fn]?.baseline} ms (x${ratios[fn]})`);
    }

    return {
      maxZipBytes: Math.max(...Object.values(zipBytes)),
      zipBytes,
      budgetBytes: BUDGET_BYTES,
      withinBudget: Object.entries(BUDGET_BYTES).every(([fn, budget]) => (zipBytes[fn] ?? Infinity) <= budget),
      importMs,
      importRatioByFunction: ratios,
      importRatioVsBaseline: Math.max(...Object.values(ratios)),
      baselineClients,
      samples: SAMPLES,
      node: process.version,
    };
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

export default runBundleBench;
