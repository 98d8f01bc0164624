/**
 * The README's Configuration and Parameters tables, generated from the settings catalogue (lib/settings.ts).
 * `npx tsx scripts/settings-tables.ts` prints each table between its markers, ready to paste into README.md;
 * test/unit/settings/catalogue.test.ts fails when the README's copy differs.
 */
import { type FunctionName, type Setting, settingEntries } from '../lib/settings';

/** The README's generated regions, each between `<!-- settings:NAME:start -->` and `<!-- settings:NAME:end -->`. */
export const TABLE_REGIONS = ['register', 'reconcile', 'lookup', 'createService', 'params'] as const;
export type TableRegion = (typeof TABLE_REGIONS)[number];

const code = (value: string) => `\`${value}\``;

/** The values a setting accepts, for the Range column: `200-60000`, `` `dns`, `http` ``; empty for free text. */
function rangeOf(setting: Setting, forParam: boolean): string {
  switch (setting.type) {
    case 'int': {
      const range = `${setting.min}-${setting.max}`;
      return forParam && setting.none ? `${range}, or ${code('none')} (${setting.none})` : range;
    }
    case 'enum':
      return setting.values.map(code).join(', ');
    case 'string':
      return '';
  }
}

function variableDefault(setting: Setting): string {
  if (setting.required) return '(required)';
  if (setting.docDefault) return setting.docDefault;
  return setting.default === undefined || setting.default === '' ? '(none)' : code(String(setting.default));
}

function paramDefault(setting: Setting): string {
  if (setting.paramDocDefault) return setting.paramDocDefault;
  const value = setting.paramDefault ?? String(setting.default ?? '');
  return value === '' ? '(empty)' : code(value);
}

const table = (header: string[], rows: string[][]) =>
  [header, header.map(() => '---'), ...rows]
    .map((cells) => `| ${cells.join(' | ')} |`.replace(/ {2}\|/g, ' |'))
    .join('\n');

/** The variables one function reads; `except`: those another function's table already lists. */
function variablesTable(fn: FunctionName, except?: FunctionName): string {
  const rows = settingEntries()
    .filter(([, s]) => s.env && s.readBy.includes(fn) && !(except && s.readBy.includes(except)))
    .map(([, s]) => [code(s.env as string), variableDefault(s), rangeOf(s, false), s.meaningFor?.[fn] ?? s.meaning]);
  return table(['Variable', 'Default', 'Range', 'Meaning'], rows);
}

function parametersTable(): string {
  const rows = settingEntries()
    .filter(([, s]) => s.param)
    .map(([, s]) => [
      code(s.param as string),
      paramDefault(s),
      rangeOf(s, true),
      s.paramMeaning ?? s.meaning,
      s.env ? code(s.env) : '',
    ]);
  return table(['Name', 'Default', 'Range', 'Meaning', 'Sets'], rows);
}

/** Each generated table by region: register (and the scheduled functions), reconcile's additions, lookup, ... */
export function settingsTables(): Record<TableRegion, string> {
  return {
    register: variablesTable('register'),
    reconcile: variablesTable('reconcile', 'register'),
    lookup: variablesTable('lookup'),
    createService: variablesTable('createService'),
    params: parametersTable(),
  };
}

export const startMarker = (region: TableRegion) => `<!-- settings:${region}:start -->`;
export const endMarker = (region: TableRegion) => `<!-- settings:${region}:end -->`;

/** A region as the README holds it: the markers around the table. */
export function markedRegion(region: TableRegion, tables = settingsTables()): string {
  return `${startMarker(region)}\n${tables[region]}\n${endMarker(region)}`;
}

if (require.main === module) {
  const tables = settingsTables();
  process.stdout.write(`${TABLE_REGIONS.map((region) => markedRegion(region, tables)).join('\n\n')}\n`);
}
