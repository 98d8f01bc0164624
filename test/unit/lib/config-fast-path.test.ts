import fc from 'fast-check';
import { type EnvKey, readVariables, validateVariables } from '../../../lib/config';
import { SETTINGS, type Setting, type SettingKey } from '../../../lib/settings';

/**
 * readVariables answers a valid environment without building zod schemas (cold start, issue 13); whatever it
 * answers must be what the schemas answer: the same values, or the same ConfigError.
 */

const ENV_KEYS = (Object.keys(SETTINGS) as SettingKey[]).filter(
  (key) => (SETTINGS[key] as Setting).env !== undefined,
) as EnvKey[];

type Verdict = { value: unknown } | { error: string };
const verdict = (read: () => unknown): Verdict => {
  try {
    return { value: read() };
  } catch (error) {
    return { error: `${(error as Error).name}: ${(error as Error).message}` };
  }
};

/** Values near each rule of the setting: its default, range ends and neighbours, enum values in other cases. */
function candidates(setting: Setting): (string | undefined)[] {
  const near =
    setting.type === 'int'
      ? [setting.min, setting.max].flatMap((n) => [n - 1, n, n + 1].map(String))
      : setting.type === 'enum'
        ? setting.values.flatMap((v) => [v, v.toLowerCase(), ` ${v}`, v.replace('+', ',')])
        : ['x'.repeat(setting.minLength ?? 1), 'x'.repeat((setting.minLength ?? 1) * 2)];
  return [
    undefined,
    '',
    ' ',
    '0',
    '-0',
    '5.5',
    '1e3',
    '0x10',
    ' 42 ',
    '9007199254740993',
    'Infinity',
    'NaN',
    'a',
    '\u{1F600}',
    '\uD800',
    'kudos.local',
    'ns-abcdefghij0123456789',
    'arn:aws:servicediscovery:us-east-1:123456789012:namespace/ns-abcdefghij0123456789',
    'blue=blue.local, green = ns-0123456789abcdef',
    'blue',
    'has space',
    'my-table',
    '*',
    'x'.repeat(300),
    ...(setting.default === undefined ? [] : [String(setting.default)]),
    ...near,
  ];
}

describe('readVariables', () => {
  it.each(ENV_KEYS)('gives what the zod schema of %s gives, on values near each of its rules', (key) => {
    const env = (SETTINGS[key] as Setting).env as string;
    for (const raw of candidates(SETTINGS[key] as Setting)) {
      const vars = { [env]: raw };
      expect([raw, verdict(() => readVariables([key], vars))]).toEqual([
        raw,
        verdict(() => validateVariables([key], vars)),
      ]);
    }
  });

  it('gives what the zod schemas give on any strings, several variables at once', () => {
    const envNames = ENV_KEYS.map((key) => (SETTINGS[key] as Setting).env as string);
    fc.assert(
      fc.property(
        fc.subarray(ENV_KEYS, { minLength: 1 }),
        fc.dictionary(fc.constantFrom(...envNames), fc.oneof(fc.string(), fc.integer().map(String))),
        (keys, vars) => {
          expect(verdict(() => readVariables(keys, vars))).toEqual(verdict(() => validateVariables(keys, vars)));
        },
      ),
      { numRuns: 500 },
    );
  });
});
