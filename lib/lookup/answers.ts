import { createHash } from 'node:crypto';
import type { HttpInstanceSummary } from '@aws-sdk/client-servicediscovery';
import type { InstanceHealth, LookupInstance, ServiceSummary } from './types';

/**
 * Turning Cloud Map's answers into the API's: mapping, the ETag and the per-request random order.
 * Answers are built once per upstream read and rendered per request, so a cache hit costs a shuffle
 * and a string join.
 */

const HEALTH: ReadonlySet<string> = new Set(['HEALTHY', 'UNHEALTHY', 'UNKNOWN']);

/** Maps one DiscoverInstances instance: the well-known AWS_INSTANCE_* attributes become fields. */
export function toLookupInstance(summary: HttpInstanceSummary): LookupInstance {
  const attributes = { ...(summary.Attributes ?? {}) };
  const { AWS_INSTANCE_IPV4: ipv4, AWS_INSTANCE_IPV6: ipv6, AWS_INSTANCE_PORT: portText } = attributes;
  const port = Number(portText);
  return {
    id: summary.InstanceId ?? '',
    ...(ipv4 ? { ipv4 } : {}),
    ...(ipv6 ? { ipv6 } : {}),
    ...(portText && Number.isInteger(port) ? { port } : {}),
    health: HEALTH.has(summary.HealthStatus ?? '') ? (summary.HealthStatus as InstanceHealth) : 'UNKNOWN',
    attributes,
  };
}

function sortedKeys(record: Record<string, string>): [string, string][] {
  return Object.entries(record).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
}

/**
 * A weak ETag over the set of instances: sorted by id, so the random order does not change it, and
 * including each health, so a health change does. Weak, since the bytes differ per answer (order).
 */
export function instancesEtag(instances: readonly LookupInstance[]): string {
  const canonical = [...instances]
    .sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))
    .map((i) => [i.id, i.ipv4 ?? null, i.ipv6 ?? null, i.port ?? null, i.health, sortedKeys(i.attributes)]);
  return weakEtag(JSON.stringify(canonical));
}

/** A weak ETag over any canonical text. */
export function weakEtag(canonical: string): string {
  return `W/"${createHash('sha256').update(canonical).digest('base64url').slice(0, 27)}"`;
}

/**
 * Fisher-Yates on a copy (the cached array is shared by every request and must stay intact), stopped
 * after `count` draws: the first `count` items are a uniform random choice in a uniform random order.
 */
export function shuffled<T>(items: readonly T[], random: () => number, count = items.length): T[] {
  const copy = [...items];
  const n = Math.min(count, copy.length);
  for (let i = 0; i < n; i++) {
    const j = i + Math.floor(random() * (copy.length - i));
    const held = copy[i] as T;
    copy[i] = copy[j] as T;
    copy[j] = held;
  }
  return n < copy.length ? copy.slice(0, n) : copy;
}

/** What a lookup answers with, ready to render: the ETag and a body that may differ per request. */
export interface Answer {
  /** Names the whole cached set: an answer cut to `max` is one of its renderings, under the same tag. */
  etag: string;
  /** The body, in a new random order; an instances answer holds at most `max` of its instances. */
  render(random: () => number, max?: number): string;
  /** The characters the answer holds: what the cache's byte budget counts (one byte each in V8's heap, about). */
  size: number;
}

/**
 * The answer of an instances route. Each instance is serialised once; rendering shuffles the strings
 * and keeps `max` of them, as DiscoverInstances gives a randomized list of up to MaxResults instances.
 */
export function instancesAnswer(
  namespace: string,
  service: string,
  revision: number | undefined,
  instances: readonly LookupInstance[],
): Answer {
  const head = `{"namespace":${JSON.stringify(namespace)},"service":${JSON.stringify(service)},"revision":${JSON.stringify(revision ?? null)},"instances":[`;
  const parts = instances.map((instance) => JSON.stringify(instance));
  return {
    etag: instancesEtag(instances),
    render: (random, max) => `${head}${shuffled(parts, random, max).join(',')}]}`,
    size: parts.reduce((sum, part) => sum + part.length, head.length),
  };
}

/** The answer of `GET /services`, sorted by name. */
export function servicesAnswer(namespace: string, services: readonly ServiceSummary[]): Answer {
  const sorted = [...services].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  const body = JSON.stringify({ namespace, services: sorted });
  return { etag: weakEtag(body), render: () => body, size: body.length };
}

/**
 * True when an If-None-Match header names `etag` (weak comparison, RFC 9110 13.1.2): the list may
 * hold several tags, and `*` matches any current answer.
 */
export function matchesIfNoneMatch(header: string | undefined, etag: string): boolean {
  if (!header) return false;
  const opaque = (tag: string) => tag.trim().replace(/^W\//, '');
  const wanted = opaque(etag);
  return header.split(',').some((tag) => tag.trim() === '*' || opaque(tag) === wanted);
}
