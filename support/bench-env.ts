/** A positive number from the environment (a benchmark's knob), or `fallback` when unset; throws naming a bad one. */
export function envNumber(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isFinite(value) || value <= 0) throw new Error(`${name} must be a number > 0 (got "${raw}")`);
  return value;
}
