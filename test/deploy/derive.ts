// biome-ignore-all lint/suspicious/noTemplateCurlyInString: ${sls:stage} is an osls variable, not a JavaScript template
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Resolver } from '../../serverless/config';
import type { ResolveVariable } from '../../serverless/config/params';
import { bySid, type Statement } from './iam-policy';

/**
 * serverless/config/ (what serverless/deploy-config.js loads) without `osls package`: a derivation for a parameter
 * set, the parameters read as osls reads them (those given, else the defaults of serverless.yml; stage `prod`).
 */

const ROOT = join(__dirname, '..', '..');

/** `params.default` of serverless.yml (flat `name: value` lines). */
export function defaultParams(): Record<string, string> {
  const yml = readFileSync(join(ROOT, 'serverless.yml'), 'utf8');
  const block = yml.slice(yml.indexOf('\n  default:\n'), yml.indexOf('\nprovider:'));
  const params: Record<string, string> = {};
  for (const match of block.matchAll(/^ {4}(\w+): (.*)$/gm)) {
    params[match[1] as string] = (match[2] as string).replace(/^'(.*)'$/, '$1');
  }
  return params;
}

/**
 * How osls resolves `param:NAME` and `sls:stage` for these parameter values at stage `prod`, the variables inside a
 * value included (the task table's default names the stage).
 */
export function paramResolver(values: Record<string, unknown>): ResolveVariable {
  return async (variable) => {
    if (variable === 'sls:stage') return 'prod';
    const value = values[variable.replace(/^param:/, '')];
    return typeof value === 'string' ? value.replaceAll('${sls:stage}', 'prod') : value;
  };
}

/** Runs one derivation of serverless/config (a fresh copy: it keeps the settings of its first run). */
export function derive(name: string, params: Record<string, string>): Promise<unknown> {
  let config: Record<string, Resolver> = {};
  jest.isolateModules(() => {
    config = (require(join(ROOT, 'serverless', 'config', 'index.ts')) as typeof import('../../serverless/config'))
      .resolvers;
  });
  const derivation = config[name];
  if (!derivation) throw new Error(`serverless/config has no ${name}`);
  return derivation({ resolveVariable: paramResolver({ ...defaultParams(), ...params }) });
}

/** The statements of a role, by Sid, as serverless/config derives them for these parameters. */
export async function roleStatements(params: Record<string, string>, role: string): Promise<Record<string, Statement>> {
  const { Resources } = (await derive('resources', params)) as {
    Resources: Record<string, { Properties: { Policies: { PolicyDocument: { Statement: Statement[] } }[] } }>;
  };
  return bySid(Resources[role]?.Properties.Policies.flatMap((p) => p.PolicyDocument.Statement) ?? []);
}
