import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { endMarker, markedRegion, settingsTables, startMarker, TABLE_REGIONS } from '../../../scripts/settings-tables';

const README = join(__dirname, '..', '..', '..', 'README.md');

/** The README's text between a region's markers; undefined when the markers are missing. */
function readmeRegion(readme: string, region: (typeof TABLE_REGIONS)[number]): string | undefined {
  const start = readme.indexOf(startMarker(region));
  const end = readme.indexOf(endMarker(region));
  if (start < 0 || end < start) return undefined;
  return readme.slice(start + startMarker(region).length, end).trim();
}

describe('the README tables of the settings catalogue', () => {
  const readme = readFileSync(README, 'utf8');
  const tables = settingsTables();

  it.each(TABLE_REGIONS)(
    'holds the %s table as lib/settings.ts generates it (npx tsx scripts/settings-tables.ts)',
    (region) => {
      expect({ region, table: readmeRegion(readme, region) }).toEqual({ region, table: tables[region] });
    },
  );

  it('marks each region once', () => {
    for (const region of TABLE_REGIONS) {
      expect(readme.split(startMarker(region)).length - 1).toBe(1);
      expect(readme.split(endMarker(region)).length - 1).toBe(1);
    }
  });

  it('generates one row per catalogued variable or parameter, between its markers', () => {
    const params = markedRegion('params', tables);
    expect(params.startsWith(startMarker('params'))).toBe(true);
    expect(params.endsWith(endMarker('params'))).toBe(true);
    expect(params).toContain('| `healthSweepIntervalMs` | `20000` | 1000-60000 |');
    expect(tables.register).toContain('| `HEALTH_POLL_MS` | `1000` | 1000-900000 |');
    expect(tables.register).toContain('| `HEALTH_WAIT_MS` | `300000` | 0-3600000 |');
    expect(tables.params).toContain('| `deregisterMaxConcurrency` | `10` | 2-1000, or `none` (no reservation) |');
    expect(tables.params).toContain('| `registerMaxConcurrency` | `5` | 2-1000, or `none` (no reservation) |');
  });
});
