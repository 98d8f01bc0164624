import { AwsError } from './aws-error';

/**
 * Converts an answer to what AWS JSON 1.1 puts on the wire: timestamps as epoch seconds (with
 * milliseconds as a fraction), undefined members left out.
 */
export function toWire(value: unknown): unknown {
  if (value instanceof Date) return value.getTime() / 1000;
  if (Array.isArray(value)) return value.map(toWire);
  if (value !== null && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [key, member] of Object.entries(value)) {
      if (member !== undefined) out[key] = toWire(member);
    }
    return out;
  }
  return value;
}

/** One page of `items` and the opaque token for the next, as the List* operations answer. */
export function paginate<T>(
  items: readonly T[],
  nextToken: unknown,
  maxResults: unknown,
  limits: { defaultSize: number; maxSize: number; errorCode: string },
): { page: T[]; nextToken?: string } {
  const size = maxResults === undefined || maxResults === null ? limits.defaultSize : Number(maxResults);
  if (!Number.isInteger(size) || size < 1 || size > limits.maxSize) {
    throw new AwsError(limits.errorCode, `MaxResults must be between 1 and ${limits.maxSize}`);
  }
  const start = decodeToken(nextToken, limits.errorCode);
  const page = items.slice(start, start + size);
  const next = start + size < items.length ? encodeToken(start + size) : undefined;
  return next === undefined ? { page } : { page, nextToken: next };
}

function encodeToken(offset: number): string {
  return Buffer.from(JSON.stringify({ o: offset })).toString('base64');
}

function decodeToken(token: unknown, errorCode: string): number {
  if (token === undefined || token === null || token === '') return 0;
  try {
    const parsed = JSON.parse(Buffer.from(String(token), 'base64').toString('utf8')) as { o?: unknown };
    if (typeof parsed.o === 'number' && Number.isInteger(parsed.o) && parsed.o >= 0) return parsed.o;
  } catch {
    // Falls through: a token we did not issue is the caller's error, answered below.
  }
  throw new AwsError(errorCode, 'The NextToken is invalid.');
}

/** Reads a request member that must be a non-empty string. */
export function requireString(input: Record<string, unknown>, key: string, errorCode: string): string {
  const value = input[key];
  if (typeof value !== 'string' || value.length === 0) {
    throw new AwsError(errorCode, `${key} is required and must be a non-empty string.`);
  }
  return value;
}

/** Reads an optional string member. */
export function optionalString(input: Record<string, unknown>, key: string, errorCode: string): string | undefined {
  const value = input[key];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'string') throw new AwsError(errorCode, `${key} must be a string.`);
  return value;
}

/** A request body as a plain object (AWS answers SerializationException otherwise). */
export type Input = Record<string, unknown>;
