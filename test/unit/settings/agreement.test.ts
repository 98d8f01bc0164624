import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import {
  loadDeregisterConfig,
  loadLookupConfig,
  loadReconcileConfig,
  loadRegistrarConfig,
  loadServiceCreatorConfig,
} from '../../../lib/config';
import {
  environmentVariablesOf,
  FUNCTIONS,
  type FunctionName,
  paramDefaultOf,
  SETTINGS,
  type Setting,
  settingEntries,
  settingsReadBy,
} from '../../../lib/settings';
import { functionEnvironment } from '../../../serverless/config/environment';
import { resolvers } from '../../../serverless/config/index';
import { readSettings } from '../../../serverless/config/params';
import { paramResolver } from '../../deploy/derive';

/**
 * The settings catalogue (lib/settings.ts) walked against everything derived from it: serverless.yml's parameter
 * defaults, the function environments the deploy code derives, the deploy-time parameter checks, and the functions' loaders.
 */

const ROOT = join(__dirname, '..', '..', '..');

interface ServerlessYml {
  params: { default: Record<string, unknown> };
  provider: { environment?: Record<string, unknown> };
  functions: Record<string, { environment?: unknown }>;
}

const yml = parse(readFileSync(join(ROOT, 'serverless.yml'), 'utf8'), { logLevel: 'error' }) as ServerlessYml;

/** The Powertools library's own variables, fixed by serverless.yml: no setting of ours. */
const isOurs = (variable: string) => !variable.startsWith('POWERTOOLS_');

const catalogue = settingEntries();
const params = catalogue.filter(([, s]) => s.param);
const ints = catalogue.filter(([, s]) => s.type === 'int') as [string, Setting & { type: 'int' }][];
const enums = catalogue.filter(([, s]) => s.type === 'enum') as [string, Setting & { type: 'enum' }][];

/** Parameters that only pass together with others (a VPC for a DNS namespace to create, endpoints for a private API). */
const COMPANIONS: Record<string, Record<string, Record<string, string>>> = {
  createNamespace: { true: { namespaceVpcId: 'vpc-0123456789abcdef0' } },
  lookupMode: { private: { lookupVpcEndpointIds: 'vpce-0123456789abcdef0' } },
  lookupAuth: { none: { lookupMode: 'private', lookupVpcEndpointIds: 'vpce-0123456789abcdef0' } },
};

/** The deploy checks over serverless.yml's defaults and `given`, as osls resolves them (stage `prod`). */
function deploySettings(given: Record<string, string>) {
  return readSettings(paramResolver({ ...yml.params.default, ...given }));
}

const LOADERS: Record<FunctionName, (env: Record<string, string | undefined>) => object> = {
  register: loadRegistrarConfig,
  deregister: loadDeregisterConfig,
  reconcile: loadReconcileConfig,
  healthSweep: loadReconcileConfig,
  lookup: loadLookupConfig,
  createService: loadServiceCreatorConfig,
};
const REQUIRED = { NAMESPACE: 'kudos.local', TASK_TABLE: 'tasks' };

/** The config field of a setting whose loader hands it on as read, where its name is not the setting's. */
const FIELD: Record<string, string> = {
  cacheControlMaxAge: 'cacheControlMaxAgeSeconds',
  reconcileMaxDeletes: 'maxDeletes',
};

describe('the settings catalogue', () => {
  it('names each variable and parameter once, and keys a setting by its parameter', () => {
    const variables = catalogue.flatMap(([, s]) => (s.env ? [s.env] : []));
    expect(new Set(variables).size).toBe(variables.length);
    for (const [key, s] of params) expect(s.param).toBe(key);
  });

  it.each(catalogue)(
    '%s: its default is one it accepts; a variable is read by some function, a parameter alone by none',
    (_key, s) => {
      expect(Boolean(s.env)).toBe(s.readBy.length > 0);
      if (s.type === 'int' && s.default !== undefined) {
        expect(s.default).toBeGreaterThanOrEqual(s.min);
        expect(s.default).toBeLessThanOrEqual(s.max);
      }
      if (s.type === 'enum' && s.default !== undefined) expect(s.values).toContain(s.default);
      if (s.type === 'string' && s.pattern && s.default !== undefined) expect(s.default).toMatch(s.pattern);
      if (s.required) expect(s.default).toBeUndefined();
    },
  );
});

describe('serverless.yml and the catalogue', () => {
  it('defaults exactly the catalogued parameters, each to its catalogued default', () => {
    const expected = Object.fromEntries(params.map(([, s]) => [s.param as string, paramDefaultOf(s)]));
    expect(Object.fromEntries(Object.entries(yml.params.default).map(([k, v]) => [k, String(v)]))).toEqual(expected);
  });

  it('sets no setting of ours in the provider environment (only the Powertools variables)', () => {
    expect(Object.keys(yml.provider.environment ?? {}).filter(isOurs)).toEqual([]);
  });

  it.each(FUNCTIONS)("takes %s's environment whole from the deploy code, which derives it from the catalogue", (fn) => {
    expect(yml.functions[fn]?.environment).toBe(`\${file(./serverless/deploy-config.js):${fn}Environment}`);
    expect(resolvers[`${fn}Environment`]).toBeInstanceOf(Function);
  });
});

describe('the environment each function gets', () => {
  it.each(FUNCTIONS)(
    'gives %s exactly the variables the catalogue says it reads (and a parameter or the stack sets)',
    async (fn) => {
      const environment = functionEnvironment(fn, await deploySettings({}));
      expect(Object.keys(environment).sort()).toEqual([...environmentVariablesOf(fn)].sort());
    },
  );

  it.each(FUNCTIONS)("gives %s values its loader accepts, equal to the parameters' defaults", async (fn) => {
    const environment = functionEnvironment(fn, await deploySettings({})) as Record<string, string>;
    const config = LOADERS[fn](environment) as Record<string, unknown>;
    for (const key of settingsReadBy(fn)) {
      const s: Setting = SETTINGS[key];
      if (s.param && s.default !== undefined && (s.type === 'int' || s.type === 'enum')) {
        expect({ [key]: config[FIELD[key] ?? key] }).toEqual({ [key]: s.default });
      }
    }
  });

  const set = catalogue.flatMap(([key, s]) => (s.env && s.param ? s.readBy.map((fn) => [key, fn, s] as const) : []));

  it.each(set.filter(([, , s]) => s.type === 'int'))(
    '%s in %s: carries the parameter given at deploy time to the loader',
    async (key, fn, s) => {
      if (s.type !== 'int') return;
      const given = s.min === s.default ? s.max : s.min;
      const environment = functionEnvironment(fn, await deploySettings({ [s.param as string]: String(given) }));
      expect(environment[s.env as string]).toBe(String(given));
      expect((LOADERS[fn](environment as Record<string, string>) as Record<string, unknown>)[FIELD[key] ?? key]).toBe(
        given,
      );
    },
  );

  it('names the task table after the stage, as osls resolves the default', async () => {
    const environment = functionEnvironment('register', await deploySettings({}));
    expect(environment.TASK_TABLE).toBe('ecs-cloudmap-registrar-prod-tasks');
  });

  it('refuses a task table name DynamoDB would refuse', async () => {
    await expect(deploySettings({ taskTableName: 'a b' })).rejects.toThrow(
      'param "taskTableName": "a b" is not a DynamoDB table name',
    );
  });
});

describe('the deploy checks and the catalogue', () => {
  it('accept serverless.yml defaults', async () => {
    await expect(deploySettings({})).resolves.toBeDefined();
  });

  it.each(ints.filter(([, s]) => s.param))(
    '%s: accept exactly min to max (and none where the catalogue says so)',
    async (key, s) => {
      const name = s.param as string;
      await expect(deploySettings({ [name]: String(s.min) })).resolves.toBeDefined();
      await expect(deploySettings({ [name]: String(s.max) })).resolves.toBeDefined();
      for (const refused of [String(s.min - 1), String(s.max + 1), `${s.min}.5`]) {
        await expect(deploySettings({ [name]: refused })).rejects.toThrow(
          `param "${key}": "${refused}" is not an integer from ${s.min} to ${s.max}`,
        );
      }
      if (s.none) await expect(deploySettings({ [name]: 'none' })).resolves.toBeDefined();
      else await expect(deploySettings({ [name]: 'none' })).rejects.toThrow(`param "${key}"`);
    },
  );

  it.each(enums.filter(([, s]) => s.param))('%s: accept exactly the catalogued values', async (key, s) => {
    const name = s.param as string;
    for (const value of s.values) {
      await expect(deploySettings({ ...COMPANIONS[name]?.[value], [name]: value })).resolves.toBeDefined();
    }
    await expect(deploySettings({ [name]: 'bogus' })).rejects.toThrow(`param "${key}"`);
  });

  it('read the DNS record sets as the function does', async () => {
    const deployed = await deploySettings({ dnsRecords: 'a, aaaa' });
    expect(deployed.dnsRecords).toBe('A+AAAA');
    expect(loadRegistrarConfig({ ...REQUIRED, DNS_RECORDS: 'a, aaaa' }).dnsRecords).toBe('A+AAAA');
  });
});

describe('the loaders and the catalogue', () => {
  it.each(FUNCTIONS)('%s reads exactly the variables the catalogue says it reads', (fn) => {
    const read = new Set<string>();
    const env = new Proxy({} as Record<string, string | undefined>, {
      get: (_target, key) => {
        if (typeof key === 'string') read.add(key);
        return undefined;
      },
    });
    expect(() => LOADERS[fn](env)).toThrow(/NAMESPACE is required/);
    const expected = settingsReadBy(fn).map((key) => catalogue.find(([k]) => k === key)?.[1].env);
    expect([...read].sort()).toEqual([...expected].sort());
  });

  const read = catalogue.flatMap(([key, s]) => (s.env ? s.readBy.map((fn) => [key, fn, s] as const) : []));

  it.each(read.filter(([, , s]) => s.type === 'int'))(
    '%s in %s: accepts exactly min to max, defaulting to the default',
    (key, fn, s) => {
      if (s.type !== 'int') return;
      const env = s.env as string;
      const load = (value?: string) => LOADERS[fn]({ ...REQUIRED, [env]: value }) as Record<string, unknown>;
      expect(load(String(s.min))[FIELD[key] ?? key]).toBe(s.min);
      expect(load(String(s.max))[FIELD[key] ?? key]).toBe(s.max);
      expect(load()[FIELD[key] ?? key]).toBe(s.default);
      for (const refused of [String(s.min - 1), String(s.max + 1), `${s.min}.5`]) {
        expect(() => load(refused)).toThrow(new RegExp(`${env}: `));
      }
    },
  );

  it.each(read.filter(([, , s]) => s.type === 'enum'))(
    '%s in %s: accepts exactly the values, defaulting to the default',
    (key, fn, s) => {
      if (s.type !== 'enum') return;
      const env = s.env as string;
      const load = (value?: string) => LOADERS[fn]({ ...REQUIRED, [env]: value }) as Record<string, unknown>;
      for (const value of s.values) expect(load(value)[key]).toBe(value);
      expect(load()[key]).toBe(s.default);
      expect(() => load('bogus')).toThrow(new RegExp(`${env}: `));
    },
  );

  it.each(read.filter(([, , s]) => s.required))('%s in %s: is required', (_key, fn, s) => {
    const { [s.env as string]: _left, ...rest } = REQUIRED as Record<string, string>;
    expect(() => LOADERS[fn](rest)).toThrow(new RegExp(`${s.env} is required`));
  });
});
