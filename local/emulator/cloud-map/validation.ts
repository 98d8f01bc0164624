import { invalidInput } from '../aws-error';

/**
 * Request checks that Cloud Map makes before it accepts a write. Limits and patterns follow the
 * AWS Cloud Map API Reference (RegisterInstance, CreateService / DnsConfig / DnsRecord).
 */

/** RegisterInstance InstanceId: up to 64 characters, `^[0-9a-zA-Z_/:.@-]+$`. */
const INSTANCE_ID = /^[0-9a-zA-Z_/:.@-]{1,64}$/;
/** RegisterInstance Attributes key: up to 255 printable ASCII characters without spaces. */
const ATTRIBUTE_KEY = /^[a-zA-Z0-9!-~]{1,255}$/;
/** Attributes value: up to 1,024 printable ASCII characters; spaces and tabs only inside. */
const ATTRIBUTE_VALUE = /^([a-zA-Z0-9!-~][ \ta-zA-Z0-9!-~]*)?[a-zA-Z0-9!-~]?$/;
/** Service and namespace names (CreateService Name pattern). */
const SERVICE_NAME =
  /^((?=^.{1,127}$)^([a-zA-Z0-9_][a-zA-Z0-9-_]{0,61}[a-zA-Z0-9_]|[a-zA-Z0-9])(\.([a-zA-Z0-9_][a-zA-Z0-9-_]{0,61}[a-zA-Z0-9_]|[a-zA-Z0-9]))*$)|(^\.$)$/;
const NAMESPACE_NAME = /^[!-~]{1,1024}$/;

export const RESERVED_ATTRIBUTES = new Set([
  'AWS_ALIAS_DNS_NAME',
  'AWS_EC2_INSTANCE_ID',
  'AWS_INIT_HEALTH_STATUS',
  'AWS_INSTANCE_CNAME',
  'AWS_INSTANCE_IPV4',
  'AWS_INSTANCE_IPV6',
  'AWS_INSTANCE_PORT',
]);
const MAX_CUSTOM_ATTRIBUTES = 30;
const MAX_TOTAL_ATTRIBUTE_CHARS = 5000;

export type DnsRecordType = 'A' | 'AAAA' | 'SRV' | 'CNAME';

export interface DnsConfig {
  NamespaceId?: string;
  RoutingPolicy: 'MULTIVALUE' | 'WEIGHTED';
  DnsRecords: { Type: DnsRecordType; TTL: number }[];
}

export function checkInstanceId(id: unknown): string {
  if (typeof id !== 'string' || !INSTANCE_ID.test(id)) {
    throw invalidInput(`InstanceId must match ^[0-9a-zA-Z_/:.@-]+$ and be at most 64 characters: ${String(id)}`);
  }
  return id;
}

export function checkServiceName(name: unknown): string {
  if (typeof name !== 'string' || !SERVICE_NAME.test(name)) throw invalidInput(`Invalid service name: ${String(name)}`);
  return name;
}

export function checkNamespaceName(name: unknown): string {
  if (typeof name !== 'string' || !NAMESPACE_NAME.test(name)) {
    throw invalidInput(`Invalid namespace name: ${String(name)}`);
  }
  return name;
}

/** Checks the attribute map's shape, patterns and limits; returns it typed. */
export function checkAttributes(raw: unknown): Record<string, string> {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw invalidInput('Attributes is required.');
  const attributes: Record<string, string> = {};
  let custom = 0;
  let total = 0;
  for (const [key, value] of Object.entries(raw)) {
    if (!ATTRIBUTE_KEY.test(key)) throw invalidInput(`Attribute key is invalid: ${key.slice(0, 300)}`);
    if (typeof value !== 'string' || value.length > 1024 || !ATTRIBUTE_VALUE.test(value)) {
      throw invalidInput(`Attribute value for ${key} is invalid.`);
    }
    if (!RESERVED_ATTRIBUTES.has(key)) custom += 1;
    total += key.length + value.length;
    attributes[key] = value;
  }
  if (custom > MAX_CUSTOM_ATTRIBUTES) throw invalidInput(`At most ${MAX_CUSTOM_ATTRIBUTES} custom attributes.`);
  if (total > MAX_TOTAL_ATTRIBUTE_CHARS) {
    throw invalidInput(`The total size of all attributes must not exceed ${MAX_TOTAL_ATTRIBUTE_CHARS} characters.`);
  }
  return attributes;
}

/** What the service's configuration requires of an instance's reserved attributes. */
export interface InstanceRequirements {
  dnsRecords: DnsRecordType[];
  routeHealthCheck: boolean;
  customHealth: boolean;
}

/** RegisterInstance: the reserved attributes the service's DNS records and health checks need. */
export function checkReservedAttributes(attributes: Record<string, string>, needs: InstanceRequirements): void {
  const ipv4 = attributes.AWS_INSTANCE_IPV4;
  const ipv6 = attributes.AWS_INSTANCE_IPV6;
  const port = attributes.AWS_INSTANCE_PORT;
  const alias = attributes.AWS_ALIAS_DNS_NAME;
  if (ipv4 !== undefined && !isIpv4(ipv4)) throw invalidInput(`AWS_INSTANCE_IPV4 is not an IPv4 address: ${ipv4}`);
  if (ipv6 !== undefined && !isIpv6(ipv6)) throw invalidInput(`AWS_INSTANCE_IPV6 is not an IPv6 address: ${ipv6}`);
  if (port !== undefined && !isPort(port)) throw invalidInput(`AWS_INSTANCE_PORT is not a port: ${port}`);
  const init = attributes.AWS_INIT_HEALTH_STATUS;
  if (init !== undefined && (!needs.customHealth || (init !== 'HEALTHY' && init !== 'UNHEALTHY'))) {
    throw invalidInput('AWS_INIT_HEALTH_STATUS is HEALTHY or UNHEALTHY, and only for services with custom health.');
  }
  if (alias !== undefined) return; // An alias record replaces the A/AAAA records entirely.
  const types = new Set(needs.dnsRecords);
  if (types.has('CNAME') && attributes.AWS_INSTANCE_CNAME === undefined) {
    throw invalidInput('AWS_INSTANCE_CNAME is required for a service with a CNAME record.');
  }
  if (types.has('A') && types.has('AAAA')) {
    if (ipv4 === undefined && ipv6 === undefined)
      throw invalidInput('AWS_INSTANCE_IPV4 or AWS_INSTANCE_IPV6 is required.');
  } else if (types.has('A') && ipv4 === undefined) {
    throw invalidInput('AWS_INSTANCE_IPV4 is required for a service with an A record.');
  } else if (types.has('AAAA') && ipv6 === undefined) {
    throw invalidInput('AWS_INSTANCE_IPV6 is required for a service with an AAAA record.');
  }
  if (types.has('SRV')) {
    if (ipv4 === undefined && ipv6 === undefined) throw invalidInput('An SRV record needs AWS_INSTANCE_IPV4 or _IPV6.');
    if (port === undefined) throw invalidInput('AWS_INSTANCE_PORT is required for a service with an SRV record.');
  }
  if (needs.routeHealthCheck && port === undefined) {
    throw invalidInput('AWS_INSTANCE_PORT is required for a service with a Route 53 health check.');
  }
}

/**
 * CreateService DnsConfig (DnsRecord Type): A, AAAA, A+AAAA, SRV, or CNAME alone; CNAME needs the
 * WEIGHTED routing policy and no Route 53 health check; TTL 0..2147483647.
 */
export function checkDnsConfig(raw: unknown, hasRouteHealthCheck: boolean): DnsConfig {
  if (typeof raw !== 'object' || raw === null) throw invalidInput('DnsConfig must be an object.');
  const config = raw as Record<string, unknown>;
  const records = config.DnsRecords;
  if (!Array.isArray(records) || records.length === 0) throw invalidInput('DnsConfig.DnsRecords is required.');
  const routing = (config.RoutingPolicy ?? 'MULTIVALUE') as string;
  if (routing !== 'MULTIVALUE' && routing !== 'WEIGHTED') throw invalidInput(`Invalid RoutingPolicy: ${routing}`);
  const typed = records.map(checkDnsRecord);
  const combination = typed
    .map((record) => record.Type)
    .sort()
    .join('+');
  if (!['A', 'AAAA', 'A+AAAA', 'SRV', 'CNAME'].includes(combination)) {
    throw invalidInput(`Invalid DnsRecords combination: ${combination}. Valid: A, AAAA, A+AAAA, SRV, CNAME.`);
  }
  if (combination === 'CNAME' && routing !== 'WEIGHTED')
    throw invalidInput('A CNAME record needs RoutingPolicy WEIGHTED.');
  if (combination === 'CNAME' && hasRouteHealthCheck)
    throw invalidInput('A CNAME record cannot have HealthCheckConfig.');
  const out: DnsConfig = { RoutingPolicy: routing, DnsRecords: typed };
  if (typeof config.NamespaceId === 'string') out.NamespaceId = config.NamespaceId;
  return out;
}

function checkDnsRecord(raw: unknown): { Type: DnsRecordType; TTL: number } {
  const record = (raw ?? {}) as Record<string, unknown>;
  const type = record.Type;
  if (type !== 'A' && type !== 'AAAA' && type !== 'SRV' && type !== 'CNAME') {
    throw invalidInput(`Invalid DnsRecord Type: ${String(type)}`);
  }
  const ttl = record.TTL;
  if (typeof ttl !== 'number' || !Number.isInteger(ttl) || ttl < 0 || ttl > 2147483647) {
    throw invalidInput('DnsRecord TTL must be an integer from 0 to 2147483647.');
  }
  return { Type: type, TTL: ttl };
}

export function isIpv4(value: string): boolean {
  const parts = value.split('.');
  return parts.length === 4 && parts.every((part) => /^(0|[1-9]\d{0,2})$/.test(part) && Number(part) <= 255);
}

function isIpv6(value: string): boolean {
  if (!/^[0-9a-fA-F:]+$/.test(value) || value.split('::').length > 2) return false;
  const groups = value.split(':').filter((group) => group !== '');
  return (
    groups.length <= 8 && groups.every((group) => group.length <= 4) && (value.includes('::') || groups.length === 8)
  );
}

function isPort(value: string): boolean {
  return /^\d{1,5}$/.test(value) && Number(value) <= 65535;
}
