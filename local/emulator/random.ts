import { randomBytes, randomUUID } from 'node:crypto';

/** A seeded PRNG (mulberry32): the same seed gives the same fault sequence, so chaos tests repeat. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const LOWER_ALNUM = 'abcdefghijklmnopqrstuvwxyz0123456789';

/** `length` random characters from [a-z0-9], the alphabet of Cloud Map ids. */
export function randomAlnum(length: number): string {
  const bytes = randomBytes(length);
  let out = '';
  for (const byte of bytes) out += LOWER_ALNUM[byte % LOWER_ALNUM.length];
  return out;
}

/** `length` random lowercase hex digits (ECS task ids, ENI ids). */
export function randomHex(length: number): string {
  return randomBytes(Math.ceil(length / 2))
    .toString('hex')
    .slice(0, length);
}

/** A random 19-digit decimal string, like the id in `ecs-svc/5211643699352071000`. */
export function randomDigits(length: number): string {
  let out = String(1 + ((randomBytes(1)[0] ?? 0) % 9));
  while (out.length < length) out += String((randomBytes(1)[0] ?? 0) % 10);
  return out;
}

export { randomUUID };

/** Shuffles a copy of `items` (Fisher-Yates); DiscoverInstances answers in random order. */
export function shuffled<T>(items: readonly T[], random: () => number = Math.random): T[] {
  const out = [...items];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    const a = out[i] as T;
    out[i] = out[j] as T;
    out[j] = a;
  }
  return out;
}
