import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { DescribedTask, TaskDefinitionFacts } from '../lib/ports';
import type { RegistrarDeps } from '../lib/registrar';
import { runRegistration } from '../lib/registrar-runtime';
import { parseTaskEvent } from '../lib/task-event';
import { seededRandom } from '../local/emulator/random';
import { MemoryRegistry, MemoryTaskSource, MemoryVersionStore } from './memory-adapters';

/**
 * The fuzzer of the register handler: events made by mutating the real fixtures (and the written ones),
 * run through the handler's entry point (`runRegistration`) over in-memory ports that count every call.
 */

const FIXTURES = join(__dirname, '..', 'test', 'fixtures');

/** Every fixture event, real and written. */
export function fixtureEvents(): Record<string, unknown>[] {
  return ['ecs-events', 'written'].flatMap((dir) =>
    readdirSync(join(FIXTURES, dir))
      .filter((f) => f.endsWith('.json'))
      .map((f) => JSON.parse(readFileSync(join(FIXTURES, dir, f), 'utf8')) as Record<string, unknown>),
  );
}

type Json = unknown;
type Random = () => number;

const pick = <T>(random: Random, items: readonly T[]): T => items[Math.floor(random() * items.length)] as T;

const STATUSES = [
  'RUNNING',
  'PENDING',
  'PROVISIONING',
  'ACTIVATING',
  'DEACTIVATING',
  'STOPPING',
  'DEPROVISIONING',
  'STOPPED',
  'running',
  '',
  ' RUNNING',
  'RUNNING\u0000',
  'UNKNOWN',
  'ＲＵＮＮＩＮＧ',
];

const STRINGS = [
  '',
  ' ',
  '\u0000',
  'a\u0000b',
  '\u202eevil',
  '🦄'.repeat(40),
  'e\u0301\u0301\u0301',
  '\ud800',
  '../etc/passwd',
  // biome-ignore lint/suspicious/noTemplateCurlyInString: a log4j-style lookup string, meant literally.
  '${jndi:ldap://x}',
  '<script>alert(1)</script>',
  "'; DROP TABLE tasks; --",
  'service:',
  'service:api',
  'service:名前',
  `service:${'x'.repeat(64)}`,
  'family:api',
  '10.0.0.1',
  '::1',
  '999.999.999.999',
  'NaN',
  '-1',
  '1e309',
  'true',
  'null',
  '__proto__',
  'constructor',
];

const NUMBERS = [
  0,
  -1,
  1,
  2 ** 31,
  2 ** 53,
  Number.MAX_SAFE_INTEGER + 2,
  1.5,
  -0,
  Number.POSITIVE_INFINITY,
  Number.NaN,
];

function randomArn(random: Random): string {
  const region = pick(random, ['us-east-1', 'eu-west-2', '', 'US-EAST-1', 'üs-east-1']);
  const account = pick(random, ['123456789012', '12345678901', '1234567890123', 'abcdefghijkl', '']);
  const kind = pick(random, ['task', 'cluster', 'task-definition', 'service', 'container-instance', '']);
  const tail = pick(random, [
    'c/0123456789abcdef0123456789abcdef',
    'c/',
    '/',
    'c/../x',
    `c/${'a'.repeat(300)}`,
    'c/🦄',
    'c/a\u0000b',
    'c/UPPER_case-1',
    'api:1',
    'c/a/b/c',
  ]);
  const partition = pick(random, ['aws', 'aws-cn', 'aws-us-gov', 'awz', '']);
  return `arn:${partition}:ecs:${region}:${account}:${kind}/${tail}`;
}

function deep(random: Random, depth: number): Json {
  let value: Json = pick(random, ['leaf', 1, null, {}]);
  const arrays = random() < 0.5;
  for (let i = 0; i < depth; i += 1) value = arrays ? [value] : { nested: value };
  return value;
}

/** Own keys named like Object.prototype's, as JSON.parse creates them (a prototype pollution attempt). */
function pollution(random: Random): Record<string, unknown> {
  return JSON.parse(
    pick(random, [
      '{"__proto__":{"polluted":"yes","lastStatus":"RUNNING"}}',
      '{"constructor":{"prototype":{"polluted":"yes"}}}',
      '{"__proto__":[]}',
      '{"__proto__":null,"toString":"x","valueOf":1,"hasOwnProperty":"no"}',
    ]),
  ) as Record<string, unknown>;
}

/** A value of a random kind, for replacing a field: wrong types, huge, unicode, deep, hostile. */
function randomValue(random: Random, original: Json): Json {
  switch (Math.floor(random() * 13)) {
    case 0:
      return pick(random, STRINGS);
    case 1:
      return pick(random, NUMBERS);
    case 2:
      return pick(random, [true, false, null]);
    case 3:
      return 'x'.repeat(pick(random, [256, 1024, 65_536, 300_000]));
    case 4:
      return pick(random, STATUSES);
    case 5:
      return randomArn(random);
    case 6:
      return deep(random, pick(random, [10, 100, 1000, 3000]));
    case 7:
      return pollution(random);
    case 8:
      // An array where an object was, an object where an array was.
      return Array.isArray(original) ? { 0: original[0], length: 1 } : [original];
    case 9:
      // A number as a string, a string as a number.
      if (typeof original === 'number') return String(original);
      return typeof original === 'string' ? Number(original) : original;
    case 10:
      return typeof original === 'string' ? `${original}\u0000${pick(random, STRINGS)}` : {};
    case 11:
      return [];
    default:
      return undefined;
  }
}

/** Every path to a value in the event, for picking one to mutate. */
function paths(value: Json, prefix: (string | number)[] = [], out: (string | number)[][] = []): (string | number)[][] {
  // Deep values inserted by an earlier mutation are not walked into: a mutation lands near the top.
  if (out.length > 2000 || prefix.length >= 6) return out;
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i += 1) {
      out.push([...prefix, i]);
      paths(value[i], [...prefix, i], out);
    }
  } else if (value && typeof value === 'object') {
    for (const key of Object.keys(value)) {
      out.push([...prefix, key]);
      paths((value as Record<string, unknown>)[key], [...prefix, key], out);
    }
  }
  return out;
}

function parentOf(root: Json, path: (string | number)[]): Record<string | number, unknown> | undefined {
  let node = root as Record<string | number, unknown> | undefined;
  for (const key of path.slice(0, -1)) {
    const next = node?.[key];
    if (!next || typeof next !== 'object') return undefined;
    node = next as Record<string | number, unknown>;
  }
  return node;
}

/** Mutates `event` in place, 1 to 4 times: drop, replace or add a field, anywhere in it. */
function mutate(random: Random, event: Record<string, unknown>): void {
  const times = 1 + Math.floor(random() * 4);
  for (let i = 0; i < times; i += 1) {
    const all = paths(event);
    // Favour the fields the registrar reads: most mutations land in detail's top level.
    const detailKeys = all.filter((p) => p.length === 2 && p[0] === 'detail');
    const path = random() < 0.5 && detailKeys.length > 0 ? pick(random, detailKeys) : pick(random, all);
    const parent = parentOf(event, path);
    const key = path[path.length - 1];
    if (!parent || key === undefined) continue;
    const roll = random();
    if (roll < 0.2) {
      if (Array.isArray(parent) && typeof key === 'number') parent.splice(key, 1);
      else delete parent[key];
    } else if (roll < 0.85) {
      parent[key] = randomValue(random, parent[key]);
    } else {
      // Own keys, as JSON.parse makes them (assignment would call the __proto__ setter instead).
      for (const [name, value] of Object.entries(pollution(random))) {
        Object.defineProperty(parent, name, { value, enumerable: true, writable: true, configurable: true });
      }
    }
  }
}

/** Makes events from the fixtures: most mutated, some left valid, some not even objects. */
export function createEventFuzzer(seed: number): () => unknown {
  const random = seededRandom(seed);
  const bases = fixtureEvents();
  return () => {
    const roll = random();
    if (roll < 0.03) return pick(random, [null, undefined, 0, '', 'event', [], [{}], true, deep(random, 500)]);
    const event = structuredClone(pick(random, bases));
    if (roll < 0.1) return event;
    if (roll < 0.15) return { ...event, detail: randomValue(random, event.detail) };
    mutate(random, event);
    return event;
  };
}

/** A TaskSource that answers for any task: RUNNING, tagged with a name, one port. It never throws. */
class FuzzTaskSource extends MemoryTaskSource {
  override async describeTask(_cluster: string, taskArn: string): Promise<DescribedTask> {
    return { taskArn, lastStatus: 'RUNNING', desiredStatus: 'RUNNING', version: 1, tags: { 'discovery:name': 'fuzz' } };
  }

  override async taskDefinition(arn: string): Promise<TaskDefinitionFacts> {
    return {
      arn,
      family: 'fuzz',
      networkMode: 'awsvpc',
      containers: [{ name: 'app', essential: true, portMappings: [{ containerPort: 80 }], hasHealthCheck: false }],
    };
  }
}

/** Counts every call made to a port. */
function counted<T extends object>(port: T, counter: { calls: number }): T {
  return new Proxy(port, {
    get(target, key, receiver) {
      const value = Reflect.get(target, key, receiver) as unknown;
      if (typeof value !== 'function') return value;
      return (...args: unknown[]) => {
        counter.calls += 1;
        return (value as (...a: unknown[]) => unknown).apply(target, args);
      };
    },
  });
}

export interface FuzzSummary {
  events: number;
  /** Events the parser rejects. */
  invalid: number;
  /** Events the handler threw on (the fakes never raise an AWS error, so any throw is a crash). */
  crashes: number;
  /** Registry writes made for events the parser rejects (goal 0). */
  writesForInvalid: number;
  /** ECS, DynamoDB (version store) or Cloud Map calls made for events the parser rejects (goal 0). */
  callsForInvalid: number;
  /** Valid events that were registered or deregistered. */
  acted: number;
  /** Whether Object.prototype was left as it was. */
  prototypeIntact: boolean;
  /** The first few crashes, for the report. */
  crashSamples: string[];
  seconds: number;
}

/** Runs `count` fuzzed events through the register handler's entry point. */
export async function runFuzz(count: number, seed: number): Promise<FuzzSummary> {
  const next = createEventFuzzer(seed);
  const summary: FuzzSummary = {
    events: 0,
    invalid: 0,
    crashes: 0,
    writesForInvalid: 0,
    callsForInvalid: 0,
    acted: 0,
    prototypeIntact: true,
    crashSamples: [],
    seconds: 0,
  };
  const prototypeKeys = Object.getOwnPropertyNames(Object.prototype).sort().join(',');
  const started = process.hrtime.bigint();
  for (let i = 0; i < count; i += 1) {
    const event = next();
    const invalid = !parseTaskEvent(event).ok;
    const counter = { calls: 0 };
    const registry = new MemoryRegistry();
    const deps: RegistrarDeps = {
      registry: counted(registry, counter),
      tasks: counted(new FuzzTaskSource(), counter),
      versions: counted(new MemoryVersionStore(), counter),
      settings: { namespace: 'kudos.local', defaultPort: 80, dnsRecords: 'A', ownerId: 'fuzz-owner', dnsTtl: 10 },
      now: () => 1_700_000_000_000,
    };
    summary.events += 1;
    if (invalid) summary.invalid += 1;
    try {
      const outcome = await runRegistration(event, deps);
      if (outcome.result !== 'skipped') summary.acted += 1;
    } catch (error) {
      summary.crashes += 1;
      if (summary.crashSamples.length < 5) {
        summary.crashSamples.push(
          `event #${i} (seed ${seed}): ${error instanceof Error ? error.stack : String(error)}`,
        );
      }
    }
    if (invalid) {
      summary.writesForInvalid += registry.writes.length;
      summary.callsForInvalid += counter.calls;
    }
  }
  summary.seconds = Number(process.hrtime.bigint() - started) / 1e9;
  const polluted = ({} as Record<string, unknown>).polluted !== undefined;
  summary.prototypeIntact =
    !polluted && Object.getOwnPropertyNames(Object.prototype).sort().join(',') === prototypeKeys;
  return summary;
}
