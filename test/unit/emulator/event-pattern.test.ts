import { InvalidEventPatternError, matchesEventPattern, validateEventPattern } from '../../../local/emulator';

// Amazon EventBridge User Guide, "Amazon EventBridge event patterns" and "Content filtering in event patterns".
const ecsEvent = {
  source: 'aws.ecs',
  'detail-type': 'ECS Task State Change',
  detail: {
    lastStatus: 'RUNNING',
    group: 'service:api',
    version: 4,
    containers: [
      { name: 'app', lastStatus: 'RUNNING' },
      { name: 'sidecar', lastStatus: 'STOPPED' },
    ],
    attachments: [{ details: [{ name: 'privateIPv4Address', value: '10.0.0.139' }] }],
    nothing: null,
  },
};

describe('EventBridge event patterns (EventBridge User Guide, "Event patterns")', () => {
  it('matches exact string values listed in arrays, on nested objects', () => {
    const pattern = {
      source: ['aws.ecs'],
      'detail-type': ['ECS Task State Change'],
      detail: { lastStatus: ['RUNNING', 'STOPPED'] },
    };
    expect(matchesEventPattern(pattern, ecsEvent)).toBe(true);
    expect(matchesEventPattern({ ...pattern, detail: { lastStatus: ['PENDING'] } }, ecsEvent)).toBe(false);
  });

  it('requires every field named in the pattern to be present (a missing field does not match)', () => {
    expect(matchesEventPattern({ detail: { stopCode: ['UserInitiated'] } }, ecsEvent)).toBe(false);
  });

  it('matches numbers numerically and only against numbers', () => {
    expect(matchesEventPattern({ detail: { version: [4] } }, ecsEvent)).toBe(true);
    expect(matchesEventPattern({ detail: { version: ['4'] } }, ecsEvent)).toBe(false);
  });

  it('matches null literally', () => {
    expect(matchesEventPattern({ detail: { nothing: [null] } }, ecsEvent)).toBe(true);
  });

  it('matches when any element of an event array matches ("Matching on arrays")', () => {
    expect(matchesEventPattern({ detail: { containers: { lastStatus: ['STOPPED'] } } }, ecsEvent)).toBe(true);
    expect(matchesEventPattern({ detail: { containers: { name: ['db'] } } }, ecsEvent)).toBe(false);
  });

  it('supports prefix and suffix, also case-insensitively ("Prefix matching", "Suffix matching")', () => {
    expect(matchesEventPattern({ detail: { group: [{ prefix: 'service:' }] } }, ecsEvent)).toBe(true);
    expect(matchesEventPattern({ detail: { group: [{ prefix: 'family:' }] } }, ecsEvent)).toBe(false);
    expect(
      matchesEventPattern({ detail: { group: [{ prefix: { 'equals-ignore-case': 'SERVICE:' } }] } }, ecsEvent),
    ).toBe(true);
    expect(matchesEventPattern({ detail: { group: [{ suffix: ':api' }] } }, ecsEvent)).toBe(true);
  });

  it('supports anything-but with a value, a list, and a prefix ("Anything-but matching")', () => {
    expect(matchesEventPattern({ detail: { lastStatus: [{ 'anything-but': 'STOPPED' }] } }, ecsEvent)).toBe(true);
    expect(
      matchesEventPattern({ detail: { lastStatus: [{ 'anything-but': ['RUNNING', 'PENDING'] }] } }, ecsEvent),
    ).toBe(false);
    expect(matchesEventPattern({ detail: { group: [{ 'anything-but': { prefix: 'service:' } }] } }, ecsEvent)).toBe(
      false,
    );
    expect(matchesEventPattern({ detail: { group: [{ 'anything-but': { prefix: 'family:' } }] } }, ecsEvent)).toBe(
      true,
    );
    // anything-but needs the field to exist.
    expect(matchesEventPattern({ detail: { stopCode: [{ 'anything-but': 'x' }] } }, ecsEvent)).toBe(false);
  });

  it('supports exists true and false on leaves ("Exists matching")', () => {
    expect(matchesEventPattern({ detail: { lastStatus: [{ exists: true }] } }, ecsEvent)).toBe(true);
    expect(matchesEventPattern({ detail: { stopCode: [{ exists: false }] } }, ecsEvent)).toBe(true);
    expect(matchesEventPattern({ detail: { stopCode: [{ exists: true }] } }, ecsEvent)).toBe(false);
  });

  it('supports numeric ranges ("Numeric matching")', () => {
    expect(matchesEventPattern({ detail: { version: [{ numeric: ['>', 3, '<=', 4] }] } }, ecsEvent)).toBe(true);
    expect(matchesEventPattern({ detail: { version: [{ numeric: ['=', 5] }] } }, ecsEvent)).toBe(false);
    expect(matchesEventPattern({ detail: { group: [{ numeric: ['>', 0] }] } }, ecsEvent)).toBe(false);
  });

  it('supports equals-ignore-case, cidr and wildcard', () => {
    expect(matchesEventPattern({ detail: { lastStatus: [{ 'equals-ignore-case': 'running' }] } }, ecsEvent)).toBe(true);
    const ip = { detail: { attachments: { details: { value: [{ cidr: '10.0.0.0/24' }] } } } };
    expect(matchesEventPattern(ip, ecsEvent)).toBe(true);
    expect(matchesEventPattern({ detail: { group: [{ wildcard: 'service:*' }] } }, ecsEvent)).toBe(true);
  });

  it('supports $or between sub-patterns ("Or matching")', () => {
    const pattern = { detail: { $or: [{ lastStatus: ['STOPPED'] }, { group: [{ prefix: 'service:' }] }] } };
    expect(matchesEventPattern(pattern, ecsEvent)).toBe(true);
  });

  it('refuses patterns EventBridge refuses (PutRule InvalidEventPatternException)', () => {
    expect(() => validateEventPattern({ source: 'aws.ecs' })).toThrow(InvalidEventPatternError);
    expect(() => validateEventPattern({ source: [{ regex: '.*' }] })).toThrow(InvalidEventPatternError);
    expect(() => validateEventPattern({ detail: { version: [{ numeric: ['>>', 1] }] } })).toThrow(
      InvalidEventPatternError,
    );
    expect(() => validateEventPattern({ source: ['aws.ecs'], detail: { lastStatus: ['RUNNING'] } })).not.toThrow();
  });
});
