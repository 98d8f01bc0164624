/** The checks every parameter goes through: each failure names the parameter and says what is accepted. */

/** A wrong parameter: the message names it and says what is accepted. */
export class DeployParamError extends Error {
  constructor(name: string, message: string) {
    super(`param "${name}": ${message}`);
    this.name = 'DeployParamError';
  }
}

export function oneOf<T extends string>(name: string, value: string, allowed: readonly T[]): T {
  if (!(allowed as readonly string[]).includes(value)) {
    throw new DeployParamError(name, `"${value}" is not one of ${allowed.join(', ')}`);
  }
  return value as T;
}

export function integer(name: string, value: string, min: number, max: number): number {
  if (!/^\d+$/.test(value) || Number(value) < min || Number(value) > max) {
    throw new DeployParamError(name, `"${value}" is not an integer from ${min} to ${max}`);
  }
  return Number(value);
}

/** A comma-separated list; `none`/`all`/empty mean no entries. */
export function list(value: string): string[] {
  return value
    .split(',')
    .map((item) => item.trim())
    .filter((item) => item && item !== 'none' && item !== 'all');
}

export function matching(name: string, values: string[], pattern: RegExp, what: string): string[] {
  for (const value of values) if (!pattern.test(value)) throw new DeployParamError(name, `"${value}" is not ${what}`);
  return values;
}

/** An EventBridge rate: `1 minute`, `5 minutes`, `1 hour`, `2 days` (singular for 1 only, as EventBridge insists). */
const RATE = /^(\d+) (minute|hour|day)(s?)$/;

const UNIT_SECONDS: Record<string, number> = { minute: 60, hour: 3600, day: 86_400 };

/** An EventBridge schedule rate (`5 minutes`); the result is the schedule expression `rate(5 minutes)`. */
export function rate(name: string, value: string): string {
  const match = RATE.exec(value);
  const count = match ? Number(match[1]) : 0;
  if (!match || count < 1 || (count === 1) === (match[3] === 's')) {
    throw new DeployParamError(
      name,
      `"${value}" is not a rate such as "1 minute", "5 minutes", "1 hour" or "2 days" (singular for 1 only)`,
    );
  }
  return `rate(${value})`;
}

/** The seconds of a rate that rate() accepted (`5 minutes` = 300). */
export function rateSeconds(value: string): number {
  const [, count, unit = ''] = RATE.exec(value) ?? [];
  return Number(count) * (UNIT_SECONDS[unit] ?? Number.NaN);
}
