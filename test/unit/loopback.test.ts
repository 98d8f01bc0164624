import { assertLoopback, isLoopbackAddress, NonLoopbackAddressError } from '../../local/loopback';

describe('the loopback guard', () => {
  it.each(['127.0.0.1', '127.10.0.4', '127.255.255.255', '127.0.0.0'])(
    'accepts %s, an IPv4 address in 127.0.0.0/8',
    (ip) => {
      expect(isLoopbackAddress(ip)).toBe(true);
      expect(() => assertLoopback(ip)).not.toThrow();
    },
  );

  it.each([
    ['a private address', '10.0.0.4'],
    ['a public address', '8.8.8.8'],
    ['an address just below 127/8', '126.255.255.255'],
    ['an address just above 127/8', '128.0.0.1'],
    ['IPv6 loopback', '::1'],
    ['IPv4-mapped IPv6 loopback', '::ffff:127.0.0.1'],
    ['a name', 'localhost'],
    ['a name that starts like one', '127.0.0.1.example.com'],
    ['three octets', '127.0.1'],
    ['an octet above 255', '127.0.0.256'],
    ['a leading zero (octal in some parsers)', '127.0.0.01'],
    ['a sign', '127.0.0.+1'],
    ['a space', ' 127.0.0.1'],
    ['an empty octet', '127..0.1'],
    ['the empty string', ''],
  ])('refuses %s (%s)', (_what, ip) => {
    expect(isLoopbackAddress(ip)).toBe(false);
  });

  it('assertLoopback throws NonLoopbackAddressError naming the address', () => {
    let caught: unknown;
    try {
      assertLoopback('10.0.0.4');
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(NonLoopbackAddressError);
    expect(caught).toMatchObject({
      name: 'NonLoopbackAddressError',
      address: '10.0.0.4',
      message: 'refusing to call 10.0.0.4: only 127.0.0.0/8 (loopback) may be called from this machine',
    });
  });
});
