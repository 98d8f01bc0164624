import { loopbackRangeUsable } from '../../../local/stack';

/**
 * `npm start` turns live tasks off, in one line, where the system cannot listen on task addresses (macOS configures
 * only 127.0.0.1), instead of starting and replacing tasks that can never bind. Listening is a local operation: no
 * packet leaves the machine, whatever the address.
 */
describe('whether the loopback range is usable for live tasks', () => {
  it('is usable on a 127.x address other than 127.0.0.1 here (Linux: all of 127.0.0.0/8 is loopback)', async () => {
    await expect(loopbackRangeUsable('127.100.0.4')).resolves.toEqual({ usable: true });
  });

  it('is not where the address cannot be listened on, and says why', async () => {
    // 192.0.2.1 (TEST-NET-1, RFC 5737) is on no interface of this machine: listen fails with EADDRNOTAVAIL.
    await expect(loopbackRangeUsable('192.0.2.1')).resolves.toEqual({
      usable: false,
      reason: '192.0.2.1 cannot be listened on (EADDRNOTAVAIL)',
    });
  });
});
