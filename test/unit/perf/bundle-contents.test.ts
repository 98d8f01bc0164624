import { join } from 'node:path';
import { build, type Plugin } from 'esbuild';

/**
 * What the function bundles must not load at import: zod classic and the Powertools parser (zod/mini does the
 * same work for a tenth of the import time), and, in the lookup bundle, Powertools Metrics (unused there).
 * Built with the functions' esbuild options and plugins (serverless.yml `custom.esbuild`).
 */

const ROOT = join(__dirname, '..', '..', '..');

async function bundledInputs(fn: string): Promise<string[]> {
  const out = await build({
    entryPoints: [join(ROOT, 'functions', `${fn}.ts`)],
    bundle: true,
    minify: true,
    format: 'cjs',
    target: 'node22',
    platform: 'node',
    mainFields: ['module', 'main'],
    external: ['@aws-sdk/client-ec2', '@aws-sdk/client-lambda'],
    plugins: require(join(ROOT, 'serverless', 'esbuild-plugins.js')) as Plugin[],
    metafile: true,
    write: false,
    logLevel: 'silent',
  });
  return Object.values(out.metafile.outputs).flatMap((output) =>
    Object.entries(output.inputs)
      .filter(([, input]) => input.bytesInOutput > 0)
      .map(([path]) => path),
  );
}

describe.each(['lookup', 'register', 'reconcile', 'health-sweep', 'create-service'])('the %s bundle', (fn) => {
  it('holds zod/mini only: no zod classic, no Powertools parser', async () => {
    const inputs = await bundledInputs(fn);
    expect(inputs.filter((path) => path.includes('zod/v4/mini/')).length).toBeGreaterThan(0);
    expect(inputs.filter((path) => path.includes('zod/v4/classic/') || path.includes('powertools/parser/'))).toEqual(
      [],
    );
  });
});

it('leaves Powertools Metrics out of the lookup bundle', async () => {
  const inputs = await bundledInputs('lookup');
  expect(inputs.filter((path) => path.includes('powertools/metrics/'))).toEqual([]);
});
