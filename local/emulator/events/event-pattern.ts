/**
 * EventBridge content-based filtering (Amazon EventBridge User Guide, "Event patterns" and
 * "Content filtering in Amazon EventBridge event patterns"): every field named in the pattern must match;
 * a leaf is an array of alternatives (literals or one-key matcher objects); nested objects descend;
 * when the event holds an array, any of its elements may match.
 */

/** A JSON event pattern, as written in serverless.yml or a rule. */
export type EventPattern = { [key: string]: unknown };

/** Thrown for a pattern EventBridge would refuse (PutRule's InvalidEventPatternException). */
export class InvalidEventPatternError extends Error {
  override readonly name = 'InvalidEventPatternError';
}

const MATCHERS = new Set([
  'prefix',
  'suffix',
  'anything-but',
  'numeric',
  'exists',
  'equals-ignore-case',
  'cidr',
  'wildcard',
]);
const NUMERIC_OPERATORS = new Set(['=', '<', '<=', '>', '>=']);

/** Throws InvalidEventPatternError when `pattern` is not one EventBridge accepts. */
export function validateEventPattern(pattern: unknown, path = ''): asserts pattern is EventPattern {
  if (!isPlainObject(pattern)) throw new InvalidEventPatternError(`pattern ${path || '(root)'} must be an object`);
  for (const [key, value] of Object.entries(pattern)) {
    const at = path ? `${path}.${key}` : key;
    if (key === '$or') {
      if (!Array.isArray(value) || value.length < 2) throw new InvalidEventPatternError(`${at} needs 2+ patterns`);
      for (const option of value) validateEventPattern(option, at);
    } else if (Array.isArray(value)) {
      for (const alternative of value) validateAlternative(alternative, at);
    } else if (isPlainObject(value)) {
      validateEventPattern(value, at);
    } else {
      throw new InvalidEventPatternError(`${at}: match values must be inside an array`);
    }
  }
}

function validateAlternative(alternative: unknown, at: string): void {
  if (!isPlainObject(alternative)) return;
  const keys = Object.keys(alternative);
  const [name] = keys;
  if (keys.length !== 1 || name === undefined || !MATCHERS.has(name)) {
    throw new InvalidEventPatternError(`${at}: unrecognized match type ${JSON.stringify(keys)}`);
  }
  const operand = alternative[name];
  if (name === 'numeric') validateNumeric(operand, at);
  if (name === 'exists' && typeof operand !== 'boolean')
    throw new InvalidEventPatternError(`${at}: exists wants a boolean`);
}

function validateNumeric(operand: unknown, at: string): void {
  if (!Array.isArray(operand) || operand.length === 0 || operand.length % 2 !== 0 || operand.length > 4) {
    throw new InvalidEventPatternError(`${at}: numeric wants [op, number] or [op, number, op, number]`);
  }
  for (let i = 0; i < operand.length; i += 2) {
    if (!NUMERIC_OPERATORS.has(String(operand[i])) || typeof operand[i + 1] !== 'number') {
      throw new InvalidEventPatternError(`${at}: bad numeric operator or operand`);
    }
  }
}

/** True when `event` matches `pattern`. */
export function matchesEventPattern(pattern: EventPattern, event: unknown): boolean {
  for (const [key, expected] of Object.entries(pattern)) {
    if (key === '$or') {
      if (!(expected as EventPattern[]).some((option) => matchesEventPattern(option, event))) return false;
      continue;
    }
    const actual = isPlainObject(event) ? event[key] : undefined;
    if (!matchesField(expected, actual)) return false;
  }
  return true;
}

function matchesField(expected: unknown, actual: unknown): boolean {
  if (Array.isArray(expected)) return matchesLeaf(expected, actual);
  const nested = expected as EventPattern;
  if (Array.isArray(actual)) {
    // Arrays of objects: EventBridge flattens them, so any element can satisfy the nested pattern.
    return actual.some((element) => matchesEventPattern(nested, element));
  }
  return matchesEventPattern(nested, actual);
}

function matchesLeaf(alternatives: unknown[], actual: unknown): boolean {
  return alternatives.some((alternative) => matchesAlternative(alternative, actual));
}

function matchesAlternative(alternative: unknown, actual: unknown): boolean {
  if (isPlainObject(alternative) && 'exists' in alternative) {
    // `exists` only looks at leaves: an object is not an existing leaf, an empty array holds no value.
    const present = actual !== undefined && !isPlainObject(actual) && !(Array.isArray(actual) && actual.length === 0);
    return alternative.exists === present;
  }
  if (actual === undefined) return false;
  const values = Array.isArray(actual) ? actual : [actual];
  return values.some((value) => !isPlainObject(value) && matchesValue(alternative, value));
}

function matchesValue(alternative: unknown, value: unknown): boolean {
  if (!isPlainObject(alternative)) return alternative === value;
  const [name, operand] = Object.entries(alternative)[0] ?? [];
  switch (name) {
    case 'prefix':
      return typeof value === 'string' && matchesAffix(operand, value, (v, s) => v.startsWith(s));
    case 'suffix':
      return typeof value === 'string' && matchesAffix(operand, value, (v, s) => v.endsWith(s));
    case 'equals-ignore-case':
      return typeof value === 'string' && typeof operand === 'string' && value.toLowerCase() === operand.toLowerCase();
    case 'anything-but':
      return !matchesAnythingBut(operand, value);
    case 'numeric':
      return typeof value === 'number' && matchesNumeric(operand as unknown[], value);
    case 'cidr':
      return typeof value === 'string' && typeof operand === 'string' && inCidr(value, operand);
    case 'wildcard':
      return typeof value === 'string' && typeof operand === 'string' && wildcardRegExp(operand).test(value);
    default:
      return false;
  }
}

/** `prefix`/`suffix` take a string, or `{ "equals-ignore-case": string }` for a case-insensitive affix. */
function matchesAffix(operand: unknown, value: string, test: (value: string, affix: string) => boolean): boolean {
  if (typeof operand === 'string') return test(value, operand);
  if (isPlainObject(operand) && typeof operand['equals-ignore-case'] === 'string') {
    return test(value.toLowerCase(), operand['equals-ignore-case'].toLowerCase());
  }
  return false;
}

/** True when `value` is one of the excluded ones (so anything-but does NOT match). */
function matchesAnythingBut(operand: unknown, value: unknown): boolean {
  if (Array.isArray(operand)) return operand.some((excluded) => excluded === value);
  if (isPlainObject(operand)) return matchesValue(operand, value) || matchesIgnoreCaseList(operand, value);
  return operand === value;
}

function matchesIgnoreCaseList(operand: Record<string, unknown>, value: unknown): boolean {
  const list = operand['equals-ignore-case'];
  return (
    Array.isArray(list) &&
    typeof value === 'string' &&
    list.some((item) => typeof item === 'string' && item.toLowerCase() === value.toLowerCase())
  );
}

function matchesNumeric(operand: unknown[], value: number): boolean {
  for (let i = 0; i < operand.length; i += 2) {
    const bound = operand[i + 1] as number;
    const ok = compare(String(operand[i]), value, bound);
    if (!ok) return false;
  }
  return true;
}

function compare(operator: string, value: number, bound: number): boolean {
  switch (operator) {
    case '=':
      return value === bound;
    case '<':
      return value < bound;
    case '<=':
      return value <= bound;
    case '>':
      return value > bound;
    default:
      return value >= bound;
  }
}

function inCidr(address: string, cidr: string): boolean {
  const [base, bitsText] = cidr.split('/');
  const bits = Number(bitsText);
  const ip = ipv4ToNumber(address);
  const network = ipv4ToNumber(base ?? '');
  if (ip === undefined || network === undefined || !Number.isInteger(bits) || bits < 0 || bits > 32) return false;
  const mask = bits === 0 ? 0 : (~0 << (32 - bits)) >>> 0;
  return (ip & mask) >>> 0 === (network & mask) >>> 0;
}

function ipv4ToNumber(address: string): number | undefined {
  const parts = address.split('.');
  if (parts.length !== 4) return undefined;
  let out = 0;
  for (const part of parts) {
    const octet = Number(part);
    if (!/^\d{1,3}$/.test(part) || octet > 255) return undefined;
    out = out * 256 + octet;
  }
  return out;
}

function wildcardRegExp(glob: string): RegExp {
  const source = glob
    .split(/(?<!\\)\*/)
    .map((piece) => piece.replace(/\\\*/g, '*').replace(/[.*+?^${}()|[\]\\]/g, '\\$&'))
    .join('.*');
  return new RegExp(`^${source}$`, 's');
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
