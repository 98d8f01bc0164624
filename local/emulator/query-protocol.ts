/**
 * The EC2 Query protocol as the SDK speaks it: a form-encoded `POST /` (`Action`, `Version`, members
 * flattened as `InstanceId.1`, `Filter.1.Name`, `Filter.1.Value.1`) answered in XML, errors as
 * `<Response><Errors><Error>` (Amazon EC2 API Reference, "Query requests" and "Error codes").
 */

/** The form members of one request, by their flattened names. */
export type QueryInput = ReadonlyMap<string, string>;

/** Parses an `application/x-www-form-urlencoded` body. */
export function parseQueryBody(body: string): QueryInput {
  return new Map(new URLSearchParams(body).entries());
}

/** A flattened list (`Prefix.1`, `Prefix.2`, ...), read until the first missing index. */
export function readQueryList(input: QueryInput, prefix: string): string[] {
  const out: string[] = [];
  for (let i = 1; input.has(`${prefix}.${i}`); i++) out.push(input.get(`${prefix}.${i}`) ?? '');
  return out;
}

/** EC2's `Filter.N.Name` / `Filter.N.Value.M` members. */
export function readQueryFilters(input: QueryInput): { name: string; values: string[] }[] {
  const out: { name: string; values: string[] }[] = [];
  for (let i = 1; input.has(`Filter.${i}.Name`); i++) {
    out.push({ name: input.get(`Filter.${i}.Name`) ?? '', values: readQueryList(input, `Filter.${i}.Value`) });
  }
  return out;
}

/**
 * Serializes an answer the way EC2 does: object members become elements in order, arrays become
 * `<item>` children (EC2 names its lists `...Set`), Dates ISO 8601, undefined members left out.
 */
export function toXml(name: string, value: unknown): string {
  if (value === undefined || value === null) return '';
  if (Array.isArray(value)) {
    if (value.length === 0) return `<${name}/>`;
    return `<${name}>${value.map((item) => toXml('item', item)).join('')}</${name}>`;
  }
  if (value instanceof Date) return `<${name}>${value.toISOString()}</${name}>`;
  if (typeof value === 'object') {
    const children = Object.entries(value as Record<string, unknown>)
      .map(([key, member]) => toXml(key, member))
      .join('');
    return `<${name}>${children}</${name}>`;
  }
  const text = escapeXml(String(value));
  return text === '' ? `<${name}/>` : `<${name}>${text}</${name}>`;
}

/** The XML document of a successful call: `<ActionResponse xmlns=...><requestId/>...`. */
export function queryResponseXml(
  action: string,
  xmlns: string,
  requestId: string,
  body: Record<string, unknown>,
): string {
  const children = Object.entries(body)
    .map(([key, member]) => toXml(key, member))
    .join('');
  return `<?xml version="1.0" encoding="UTF-8"?>\n<${action}Response xmlns="${xmlns}"><requestId>${requestId}</requestId>${children}</${action}Response>`;
}

/** The XML document of an error, as EC2 sends it (note `RequestID`, not `requestId`). */
export function queryErrorXml(code: string, message: string, requestId: string): string {
  return `<?xml version="1.0" encoding="UTF-8"?>\n<Response><Errors><Error><Code>${escapeXml(code)}</Code><Message>${escapeXml(message)}</Message></Error></Errors><RequestID>${requestId}</RequestID></Response>`;
}

/** Escapes text content (quotes stay literal there, as in EC2's own messages). */
function escapeXml(text: string): string {
  return text.replaceAll('&', '&amp;').replaceAll('<', '&lt;').replaceAll('>', '&gt;');
}
