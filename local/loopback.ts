/**
 * The loopback guard: this machine may only talk to 127.0.0.0/8, so everything in the project that calls
 * an address it was given (a task's, a DNS answer's, a registered instance's) checks it here first and
 * refuses any other address with an error instead of connecting.
 */

const OCTET = /^(?:0|[1-9]\d{0,2})$/;

/** True only for a dotted-quad IPv4 address in 127.0.0.0/8; false for IPv6 (even ::1), names and malformed text. */
export function isLoopbackAddress(ip: string): boolean {
  if (typeof ip !== 'string') return false;
  const parts = ip.split('.');
  if (parts.length !== 4) return false;
  if (!parts.every((part) => OCTET.test(part) && Number(part) <= 255)) return false;
  return parts[0] === '127';
}

/** A call to an address outside 127.0.0.0/8 was refused before any packet was sent. */
export class NonLoopbackAddressError extends Error {
  override readonly name = 'NonLoopbackAddressError';

  constructor(readonly address: string) {
    super(`refusing to call ${address}: only 127.0.0.0/8 (loopback) may be called from this machine`);
  }
}

/** Throws NonLoopbackAddressError unless `address` is a dotted-quad IPv4 address in 127.0.0.0/8. */
export function assertLoopback(address: string): void {
  if (!isLoopbackAddress(address)) throw new NonLoopbackAddressError(address);
}
