/**
 * Cloud Map's own rules for names, instance ids and attributes (AWS Cloud Map API Reference:
 * CreateService `Name`, RegisterInstance `InstanceId` and `Attributes`), checked before any write so that
 * a bad value is refused with a clear log instead of a failed call.
 */

/** One DNS label, as a Cloud Map service name that is discoverable as `<name>.<namespace>`. */
export const SERVICE_NAME = /^(?:[a-zA-Z0-9_][a-zA-Z0-9_-]{0,61}[a-zA-Z0-9_]|[a-zA-Z0-9])$/;

/** RegisterInstance InstanceId: up to 64 characters of this set. */
export const INSTANCE_ID = /^[0-9a-zA-Z_/:.@-]{1,64}$/;

/** Attribute key: printable ASCII without space, 1-255 characters. */
export const ATTRIBUTE_KEY = /^[!-~]{1,255}$/;

/** Attribute value: printable ASCII, inner spaces allowed, 1-1,024 characters. */
export const ATTRIBUTE_VALUE = /^(?:[!-~][ !-~]*)?[!-~]?$/;
export const MAX_ATTRIBUTE_VALUE_LENGTH = 1024;

/** Attributes whose key does not start with `AWS_` count as custom: at most 30 of them. */
export const MAX_CUSTOM_ATTRIBUTES = 30;

/** Sum of the lengths of every key and value. */
export const MAX_ATTRIBUTES_TOTAL_LENGTH = 5000;

export function isValidServiceName(name: string): boolean {
  return SERVICE_NAME.test(name);
}

export function isValidInstanceId(id: string): boolean {
  return INSTANCE_ID.test(id);
}

/** Why an attribute cannot be sent to Cloud Map, or undefined when it can. */
export function attributeProblem(key: string, value: string): string | undefined {
  if (!ATTRIBUTE_KEY.test(key)) return `key "${key.slice(0, 40)}" is not 1-255 printable ASCII characters`;
  if (value.length === 0 || value.length > MAX_ATTRIBUTE_VALUE_LENGTH) {
    return `value of "${key}" is ${value.length} characters (1 to ${MAX_ATTRIBUTE_VALUE_LENGTH} allowed)`;
  }
  if (!ATTRIBUTE_VALUE.test(value)) return `value of "${key}" has characters Cloud Map does not accept`;
  return undefined;
}

/** The sum of key and value lengths, as Cloud Map counts the 5,000-character limit. */
export function attributesLength(attributes: Record<string, string>): number {
  let total = 0;
  for (const [key, value] of Object.entries(attributes)) total += key.length + value.length;
  return total;
}

export function isCustomAttribute(key: string): boolean {
  return !key.startsWith('AWS_');
}

/**
 * What an instance lacks for the DNS records of its service (RegisterInstance: an A record needs
 * AWS_INSTANCE_IPV4, an AAAA record AWS_INSTANCE_IPV6, both for A+AAAA; SRV needs AWS_INSTANCE_PORT and an
 * address), or undefined when it has all of it. `none` (an HTTP namespace) needs nothing.
 */
export function missingForRecords(records: string, attributes: Record<string, string>): string | undefined {
  const has = (key: string) => Boolean(attributes[key]);
  const needs: string[] = [];
  if ((records === 'A' || records === 'A+AAAA') && !has('AWS_INSTANCE_IPV4')) needs.push('AWS_INSTANCE_IPV4');
  if ((records === 'AAAA' || records === 'A+AAAA') && !has('AWS_INSTANCE_IPV6')) needs.push('AWS_INSTANCE_IPV6');
  if (records === 'SRV') {
    if (!has('AWS_INSTANCE_PORT')) needs.push('AWS_INSTANCE_PORT');
    if (!has('AWS_INSTANCE_IPV4') && !has('AWS_INSTANCE_IPV6')) needs.push('AWS_INSTANCE_IPV4 or AWS_INSTANCE_IPV6');
  }
  return needs.length ? `${records} records need ${needs.join(' and ')}` : undefined;
}
