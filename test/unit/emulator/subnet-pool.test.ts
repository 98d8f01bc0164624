import { SubnetPool } from '../../../local/emulator/ec2/network';
import { isLoopbackAddress } from '../../../local/loopback';

// Slots 0-3 and the last of a subnet are AWS's (Amazon VPC User Guide, "Subnet CIDR blocks":
// https://docs.aws.amazon.com/vpc/latest/userguide/subnet-sizing.html), so the first task gets .4.

describe('SubnetPool addresses (loopback, so live tasks can listen on them)', () => {
  it('gives each subnet its own /20 in 127.10.0.0/16, first usable slot .4, with the EC2 DNS name of the address', () => {
    const pool = new SubnetPool('us-east-1');
    const a = pool.allocate('subnet-a');
    const b = pool.allocate('subnet-b');
    const a2 = pool.allocate('subnet-a');
    expect([a.privateIPv4Address, a2.privateIPv4Address, b.privateIPv4Address]).toEqual([
      '127.10.0.4',
      '127.10.0.5',
      '127.10.16.4',
    ]);
    expect(a.privateDnsName).toBe('ip-127-10-0-4.ec2.internal');
  });

  it('crosses into the next /24 of the subnet after slot 255, and reuses a released slot', () => {
    const pool = new SubnetPool('eu-west-1');
    const enis = Array.from({ length: 253 }, () => pool.allocate('subnet-a'));
    expect(enis.at(-1)?.privateIPv4Address).toBe('127.10.1.0');
    const [firstEni] = enis;
    if (!firstEni) throw new Error('no interface');
    pool.release(firstEni);
    expect(pool.allocate('subnet-a').privateIPv4Address).toBe('127.10.0.4');
    expect(enis[0]?.privateDnsName).toBe('ip-127-10-0-4.eu-west-1.compute.internal');
  });

  it('puts the 17th subnet in 127.11.0.0/16 rather than on top of the first, and every address is loopback', () => {
    const pool = new SubnetPool('us-east-1');
    const first = Array.from({ length: 17 }, (_, i) => pool.allocate(`subnet-${i}`).privateIPv4Address ?? '');
    expect(first[0]).toBe('127.10.0.4');
    expect(first[15]).toBe('127.10.240.4');
    expect(first[16]).toBe('127.11.0.4');
    expect(first.every(isLoopbackAddress)).toBe(true);
  });

  it('takes another second octet, so emulators side by side never hand out the same address', () => {
    expect(new SubnetPool('us-east-1', 42).allocate('subnet-a').privateIPv4Address).toBe('127.42.0.4');
    expect(() => new SubnetPool('us-east-1', 0)).toThrow(RangeError);
  });

  it('keeps IPv6 addresses in fd00:ec2::/32 (not live) and gives IPv6-only subnets no IPv4', () => {
    const eni = new SubnetPool('us-east-1').allocate('subnet-ipv6only-a');
    expect(eni.privateIPv4Address).toBeUndefined();
    expect(eni.ipv6Address).toBe('fd00:ec2:0:1::4');
  });
});
