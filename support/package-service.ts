import { execFile, execFileSync } from 'node:child_process';
import { cp, mkdtemp, readdir, readFile, rm, stat, symlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { strFromU8, unzipSync } from 'fflate';

const ROOT = join(__dirname, '..');
/** What `osls package` reads: the service definition and the sources its bundles are built from. */
const SERVICE_FILES = [
  'serverless.yml',
  'serverless',
  'resources',
  'functions',
  'lib',
  'package.json',
  'tsconfig.json',
];
const OSLS = join(ROOT, 'node_modules', 'osls', 'bin', 'serverless.js');

/** A CloudFormation resource as the tests read it. */
export interface CfnResource {
  Type: string;
  Properties: Record<string, unknown>;
  DependsOn?: string | string[];
  [key: string]: unknown;
}

export interface CfnTemplate {
  Resources: Record<string, CfnResource>;
  Outputs?: Record<string, { Value: unknown }>;
}

export interface PackagedService {
  template: CfnTemplate;
  /** Zip size in bytes of each function's artifact, by function key. */
  zipBytes: Record<string, number>;
  /** The JavaScript each function's artifact holds (its bundled handler), by function key. */
  bundles: Record<string, string>;
}

/** The result of a package run that was expected to fail. */
export interface PackageFailure {
  exitCode: number;
  output: string;
}

/** True when this machine can run a command without any network (an unprivileged network namespace). */
function canIsolateNetwork(): boolean {
  try {
    execFileSync('unshare', ['-rn', 'true'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

const isolated = canIsolateNetwork();

/**
 * Runs `osls package` on a private copy of the service (its own `.esbuild` and `.serverless`, so it never
 * disturbs a local stack running from the checkout), with fake credentials and no network: inside an empty
 * network namespace when the machine allows one, else behind an unreachable proxy.
 */
function runPackage(
  params: Record<string, string>,
  stage: string,
): Promise<{ exitCode: number; output: string; dir: string }> {
  return (async () => {
    const dir = await mkdtemp(join(tmpdir(), 'registrar-package-'));
    await Promise.all(SERVICE_FILES.map((name) => cp(join(ROOT, name), join(dir, name), { recursive: true })));
    await symlink(join(ROOT, 'node_modules'), join(dir, 'node_modules'), 'dir');
    const args = [
      OSLS,
      'package',
      '--stage',
      stage,
      '--region',
      'eu-west-1',
      '--package',
      join(dir, 'artifacts'),
      ...Object.entries(params).map(([name, value]) => `--param=${name}=${value}`),
    ];
    const [command, commandArgs] = isolated
      ? ['unshare', ['-rn', process.execPath, ...args]]
      : [process.execPath, args];
    const env = {
      PATH: process.env.PATH ?? '',
      HOME: dir,
      AWS_ACCESS_KEY_ID: 'test',
      AWS_SECRET_ACCESS_KEY: 'test',
      AWS_REGION: 'eu-west-1',
      AWS_EC2_METADATA_DISABLED: 'true',
      HTTP_PROXY: 'http://127.0.0.1:9',
      HTTPS_PROXY: 'http://127.0.0.1:9',
      SLS_TELEMETRY_DISABLED: '1',
      SLS_NOTIFICATIONS_MODE: 'off',
    };
    return new Promise((resolve) => {
      execFile(command, commandArgs, { cwd: dir, env, maxBuffer: 16 * 1024 * 1024 }, (error, stdout, stderr) => {
        const exitCode = error ? (typeof error.code === 'number' ? error.code : 1) : 0;
        resolve({ exitCode, output: `${stdout}${stderr}`, dir });
      });
    });
  })();
}

/**
 * Packages the service with these parameters and returns its CloudFormation template and artifact sizes.
 * `inspect` may read the artifacts directory before it is removed (the benchmark reads the zips).
 */
export async function packageService(
  params: Record<string, string> = {},
  stage = 'prod',
  inspect?: (artifactsDir: string) => Promise<void>,
): Promise<PackagedService> {
  const { exitCode, output, dir } = await runPackage(params, stage);
  try {
    if (exitCode !== 0) throw new Error(`osls package failed (exit ${exitCode}):\n${output}`);
    const artifacts = join(dir, 'artifacts');
    const template = JSON.parse(
      await readFile(join(artifacts, 'cloudformation-template-update-stack.json'), 'utf8'),
    ) as CfnTemplate;
    const zipBytes: Record<string, number> = {};
    const bundles: Record<string, string> = {};
    for (const name of await readdir(artifacts)) {
      if (!name.endsWith('.zip')) continue;
      const fn = name.slice(0, -'.zip'.length);
      zipBytes[fn] = (await stat(join(artifacts, name))).size;
      const scripts = unzipSync(await readFile(join(artifacts, name)), { filter: (file) => file.name.endsWith('.js') });
      bundles[fn] = Object.values(scripts)
        .map((script) => strFromU8(script))
        .join('\n');
    }
    await inspect?.(artifacts);
    return { template, zipBytes, bundles };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** Packages with parameters that must be refused; returns the exit code and what osls printed. */
export async function packageFailure(params: Record<string, string>, stage = 'prod'): Promise<PackageFailure> {
  const { exitCode, output, dir } = await runPackage(params, stage);
  await rm(dir, { recursive: true, force: true });
  return { exitCode, output };
}

/** The resources of one CloudFormation type, by logical id. */
export function resourcesOfType(template: CfnTemplate, type: string): Record<string, CfnResource> {
  return Object.fromEntries(Object.entries(template.Resources).filter(([, r]) => r.Type === type));
}

/** The one resource of a type; throws when there is not exactly one. */
export function onlyResourceOfType(template: CfnTemplate, type: string): [string, CfnResource] {
  const found = Object.entries(resourcesOfType(template, type));
  if (found.length !== 1) throw new Error(`expected one ${type}, found ${found.length}`);
  return found[0] as [string, CfnResource];
}

/** The schedule that invokes a function (by its logical id): name, expression and state of its one rule. */
export function scheduleOf(template: CfnTemplate, functionId: string): Record<string, unknown> {
  const target = JSON.stringify({ 'Fn::GetAtt': [functionId, 'Arn'] });
  const found = Object.values(resourcesOfType(template, 'AWS::Events::Rule')).filter(
    (rule) =>
      rule.Properties.ScheduleExpression !== undefined &&
      (rule.Properties.Targets as { Arn: unknown }[]).some((t) => JSON.stringify(t.Arn) === target),
  );
  if (found.length !== 1) throw new Error(`expected one schedule for ${functionId}, found ${found.length}`);
  const { Name, ScheduleExpression, State } = (found[0] as CfnResource).Properties;
  return { Name, ScheduleExpression, State };
}
