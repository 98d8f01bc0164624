import { BlockList, isIP } from 'node:net';
import type { AwsClientOptions } from '../lib/aws-clients';
import { UsageError } from './io';

/** What the local stack and other emulators on this machine accept: they check no signature. */
const DUMMY_CREDENTIALS = { accessKeyId: 'test', secretAccessKey: 'test' };
/** The local stack's region (local/start.ts): its ARNs and events say us-east-1. */
const LOCAL_REGION = 'us-east-1';

const LOOPBACK = new BlockList();
LOOPBACK.addSubnet('127.0.0.0', 8, 'ipv4');
LOOPBACK.addAddress('::1', 'ipv6');

/** The help text's sentence on `--endpoint`, shared by the commands that take one. */
export const ENDPOINT_HELP = `With a loopback --endpoint (127.0.0.0/8, ::1, localhost), and only then, the region defaults to
${LOCAL_REGION} and the credentials to dummy ones, unless AWS_REGION (or AWS_DEFAULT_REGION) and
AWS_ACCESS_KEY_ID with AWS_SECRET_ACCESS_KEY set them.`;

/** True for an endpoint on this machine: a 127.0.0.0/8 or ::1 address, or the name localhost. */
export function isLoopbackEndpoint(endpoint: string): boolean {
  const host = new URL(endpoint).hostname.toLowerCase().replace(/^\[(.*)\]$/, '$1');
  if (host === 'localhost') return true;
  const family = isIP(host);
  return family !== 0 && LOOPBACK.check(host, family === 4 ? 'ipv4' : 'ipv6');
}

/** `--endpoint` as given: an http(s) URL with a host, or a usage error naming the option. */
export function parseEndpoint(value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new UsageError(`--endpoint must be an http(s) URL, such as http://127.0.0.1:4566 (got "${value}")`);
  }
  if ((url.protocol !== 'http:' && url.protocol !== 'https:') || url.hostname === '') {
    throw new UsageError(`--endpoint must be an http(s) URL, such as http://127.0.0.1:4566 (got "${value}")`);
  }
  return value;
}

/**
 * The SDK client options for `--endpoint`. An emulator on this machine needs no account, so a loopback
 * endpoint gets a region and dummy credentials when the environment gives none; any other endpoint (or
 * none) is left to the standard AWS environment, so real credentials are never invented.
 */
export function endpointClientOptions(
  endpoint: string | undefined,
  env: Record<string, string | undefined>,
): AwsClientOptions {
  if (endpoint === undefined) return {};
  if (!isLoopbackEndpoint(endpoint)) return { endpoint };
  const hasCredentials = Boolean(env.AWS_ACCESS_KEY_ID && env.AWS_SECRET_ACCESS_KEY);
  return {
    endpoint,
    region: env.AWS_REGION || env.AWS_DEFAULT_REGION || LOCAL_REGION,
    // A copy per client: the SDK marks the object it is given.
    ...(hasCredentials ? {} : { credentials: { ...DUMMY_CREDENTIALS } }),
  };
}
