import {
  instancesAnswer,
  instancesEtag,
  matchesIfNoneMatch,
  servicesAnswer,
  shuffled,
  toLookupInstance,
} from '../../../lib/lookup/answers';
import type { LookupInstance } from '../../../lib/lookup/types';

const instance = (id: string, health: LookupInstance['health'] = 'HEALTHY'): LookupInstance => ({
  id,
  ipv4: `10.0.0.${id.length}`,
  port: 8080,
  health,
  attributes: { AWS_INSTANCE_IPV4: `10.0.0.${id.length}`, AWS_INSTANCE_PORT: '8080' },
});

/** A deterministic random source: a small linear congruential generator. */
function seeded(seed: number): () => number {
  let state = seed;
  return () => {
    state = (state * 1_103_515_245 + 12_345) % 2 ** 31;
    return state / 2 ** 31;
  };
}

describe('mapping a DiscoverInstances instance', () => {
  it('keeps an attribute named __proto__ (as JSON.parse gives it: an own key) in the answer', () => {
    const mapped = toLookupInstance({ InstanceId: 'a', Attributes: JSON.parse('{"__proto__":"x"}') });
    expect(JSON.parse(JSON.stringify(mapped)).attributes).toEqual(JSON.parse('{"__proto__":"x"}'));
    expect(Object.keys(mapped.attributes)).toEqual(['__proto__']);
  });

  it('takes ipv4, ipv6 and a numeric port from the AWS_INSTANCE_* attributes and keeps every attribute', () => {
    const mapped = toLookupInstance({
      InstanceId: 'task-1',
      HealthStatus: 'HEALTHY',
      Attributes: {
        AWS_INSTANCE_IPV4: '10.0.1.5',
        AWS_INSTANCE_IPV6: 'fd00::5',
        AWS_INSTANCE_PORT: '8080',
        owner: 'ecs-cloudmap-registrar',
      },
    });
    expect(mapped).toEqual({
      id: 'task-1',
      ipv4: '10.0.1.5',
      ipv6: 'fd00::5',
      port: 8080,
      health: 'HEALTHY',
      attributes: {
        AWS_INSTANCE_IPV4: '10.0.1.5',
        AWS_INSTANCE_IPV6: 'fd00::5',
        AWS_INSTANCE_PORT: '8080',
        owner: 'ecs-cloudmap-registrar',
      },
    });
  });

  it('leaves the ipv6 key out when the task has no IPv6 address', () => {
    const mapped = toLookupInstance({
      InstanceId: 'a',
      HealthStatus: 'UNHEALTHY',
      Attributes: { AWS_INSTANCE_IPV4: '1.2.3.4' },
    });
    expect(mapped).not.toHaveProperty('ipv6');
    expect(mapped).not.toHaveProperty('port');
    expect(mapped.health).toBe('UNHEALTHY');
  });

  it('leaves out a port that is not a whole number', () => {
    expect(toLookupInstance({ InstanceId: 'a', Attributes: { AWS_INSTANCE_PORT: 'http' } })).not.toHaveProperty('port');
  });

  it('reports UNKNOWN when Cloud Map gives no health', () => {
    expect(toLookupInstance({ InstanceId: 'a' }).health).toBe('UNKNOWN');
  });

  it('puts the fields in the documented order', () => {
    const mapped = toLookupInstance({
      InstanceId: 'a',
      HealthStatus: 'HEALTHY',
      Attributes: { AWS_INSTANCE_IPV4: '1.2.3.4', AWS_INSTANCE_IPV6: '::1', AWS_INSTANCE_PORT: '80' },
    });
    expect(Object.keys(mapped)).toEqual(['id', 'ipv4', 'ipv6', 'port', 'health', 'attributes']);
  });
});

describe('the ETag', () => {
  it('is weak', () => {
    expect(instancesEtag([instance('a')])).toMatch(/^W\/"[A-Za-z0-9_-]+"$/);
  });

  it('does not depend on the order of instances or of attributes', () => {
    const a = instance('a');
    const reordered = { ...a, attributes: { AWS_INSTANCE_PORT: '8080', AWS_INSTANCE_IPV4: a.ipv4 ?? '' } };
    expect(instancesEtag([a, instance('bb')])).toBe(instancesEtag([instance('bb'), reordered]));
  });

  it('changes when an instance health changes', () => {
    expect(instancesEtag([instance('a', 'HEALTHY')])).not.toBe(instancesEtag([instance('a', 'UNHEALTHY')]));
  });

  it('changes when the set changes', () => {
    expect(instancesEtag([instance('a')])).not.toBe(instancesEtag([instance('a'), instance('bb')]));
    expect(instancesEtag([])).not.toBe(instancesEtag([instance('a')]));
  });
});

describe('If-None-Match', () => {
  const etag = 'W/"abc"';
  it.each([
    ['the same weak tag', 'W/"abc"', true],
    ['the strong form of the tag (weak comparison)', '"abc"', true],
    ['a list holding the tag', 'W/"x", W/"abc"', true],
    ['a wildcard', '*', true],
    ['another tag', 'W/"abd"', false],
    ['no header', undefined, false],
  ])('matches %s: %s', (_why, header, expected) => {
    expect(matchesIfNoneMatch(header, etag)).toBe(expected);
  });
});

describe('the random order', () => {
  it('shuffles a copy and leaves the cached array as it was', () => {
    const items = [1, 2, 3, 4, 5, 6, 7, 8];
    const out = shuffled(items, seeded(7));
    expect(items).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    expect([...out].sort()).toEqual(items);
  });

  it('gives every order a chance: each instance comes first in some answers', () => {
    const random = seeded(42);
    const firsts = new Set(Array.from({ length: 200 }, () => shuffled(['a', 'b', 'c', 'd'], random)[0]));
    expect(firsts).toEqual(new Set(['a', 'b', 'c', 'd']));
  });

  it('gives a uniform random choice of count items when asked for fewer than it holds', () => {
    const random = seeded(11);
    const items = ['a', 'b', 'c', 'd', 'e'];
    const chosen = new Map<string, number>();
    for (let i = 0; i < 5000; i++) {
      const out = shuffled(items, random, 2);
      expect(out).toHaveLength(2);
      expect(new Set(out).size).toBe(2);
      for (const item of out) chosen.set(item, (chosen.get(item) ?? 0) + 1);
    }
    // Each item is in 2 of 5 choices: 2000 of 5000 expected.
    for (const item of items) expect(chosen.get(item)).toBeGreaterThan(1800);
    expect(items).toEqual(['a', 'b', 'c', 'd', 'e']);
  });

  it('renders at most max instances, a different choice per request', () => {
    const answer = instancesAnswer('kudos.local', 'api', 7, [instance('a'), instance('bb'), instance('ccc')]);
    const random = seeded(5);
    const firsts = new Set<string>();
    for (let i = 0; i < 50; i++) {
      const ids = JSON.parse(answer.render(random, 1)).instances.map((x: LookupInstance) => x.id);
      expect(ids).toHaveLength(1);
      firsts.add(ids[0]);
    }
    expect(firsts.size).toBe(3);
    expect(JSON.parse(answer.render(random, 1000)).instances).toHaveLength(3);
  });

  it('renders the same set in different orders under the same ETag', () => {
    const answer = instancesAnswer('kudos.local', 'api', 7, [instance('a'), instance('bb'), instance('ccc')]);
    const random = seeded(3);
    const bodies = new Set(Array.from({ length: 50 }, () => answer.render(random)));
    expect(bodies.size).toBeGreaterThan(1);
    for (const body of bodies) {
      const parsed = JSON.parse(body);
      expect(parsed).toMatchObject({ namespace: 'kudos.local', service: 'api', revision: 7 });
      expect(parsed.instances.map((i: LookupInstance) => i.id).sort()).toEqual(['a', 'bb', 'ccc']);
    }
  });

  it('renders an empty instance list as []', () => {
    expect(JSON.parse(instancesAnswer('kudos.local', 'api', 1, []).render(Math.random))).toEqual({
      namespace: 'kudos.local',
      service: 'api',
      revision: 1,
      instances: [],
    });
  });
});

describe('the services list', () => {
  it('sorts services by name and carries the namespace', () => {
    const answer = servicesAnswer('kudos.local', [
      { name: 'web', instances: 2 },
      { name: 'api', instances: 3 },
    ]);
    expect(JSON.parse(answer.render(Math.random))).toEqual({
      namespace: 'kudos.local',
      services: [
        { name: 'api', instances: 3 },
        { name: 'web', instances: 2 },
      ],
    });
  });
});
