import { randomHex, randomUUID } from '../random';

/** A network interface (ENI) in a local subnet: a task's in awsvpc mode, or an EC2 instance's primary one. */
export interface NetworkInterface {
  attachmentId: string;
  subnetId: string;
  networkInterfaceId: string;
  macAddress: string;
  /** Absent in an IPv6-only subnet. */
  privateIPv4Address?: string;
  /** Present in dual-stack and IPv6-only subnets. */
  ipv6Address?: string;
  privateDnsName?: string;
  status: 'PRECREATED' | 'ATTACHED' | 'DETACHED' | 'DELETED';
  /** The address slot in its subnet, returned to the pool on release. */
  slot: number;
}

/**
 * The address families of a subnet, read from its id so that a test or a demo picks one with no knob:
 * an id containing `ipv6only` is IPv6-only, one containing `dualstack` is dual-stack, any other is
 * IPv4-only (real subnet ids are `subnet-` and hex, so these names cannot clash with copied ones).
 */
export type SubnetKind = 'ipv4' | 'dualstack' | 'ipv6only';

/** The kind of a subnet, by the naming convention above. */
export function subnetKind(subnet: string): SubnetKind {
  const id = subnet.toLowerCase();
  if (id.includes('ipv6only')) return 'ipv6only';
  if (id.includes('dualstack')) return 'dualstack';
  return 'ipv4';
}

/** Slots 0-3 and the last one of every subnet are AWS's (Amazon VPC User Guide, "Subnet CIDR blocks"). */
const FIRST_HOST = 4;
const LAST_HOST = 4094;

/**
 * Hands out network interfaces from local subnets, for task ENIs and emulated EC2 instances alike, so
 * no two share an address. Each subnet name gets its own /20 block of loopback addresses (the first 16
 * subnets 127.10.0.0/20 to 127.10.240.0/20, the next 16 in 127.11.0.0/16, and so on): all of
 * 127.0.0.0/8 is loopback on Linux, so a live task can listen on its own address with no setup and
 * nothing ever leaves the machine. Each subnet also gets its own fd00:ec2:0:x::/64 prefix (x = index + 1,
 * so the text is already in RFC 5952 canonical form; a unique local range, never routed, and not live)
 * and an availability zone; an address returns to the pool when its task stops.
 */
export class SubnetPool {
  private readonly subnets: string[] = [];
  private readonly used = new Map<string, Set<number>>();
  private cursor = 0;

  /**
   * `firstOctet` is the second octet of the first 16 subnets' addresses (127.<firstOctet>.0.0/16), 10 by
   * default; emulators running side by side (parallel test workers) give each a different one so their
   * live tasks never want the same address and port.
   */
  constructor(
    private readonly region: string,
    private readonly firstOctet = 10,
  ) {
    if (!Number.isInteger(firstOctet) || firstOctet < 1 || firstOctet > 255) {
      throw new RangeError(`the first address octet must be an integer from 1 to 255, got ${firstOctet}`);
    }
  }

  /** The subnet the next task goes to, round-robin as ECS spreads a service across its subnets. */
  pickSubnet(subnets: string[]): string {
    const subnet = subnets[this.cursor % subnets.length] ?? 'subnet-local';
    this.cursor += 1;
    return subnet;
  }

  availabilityZone(subnet: string): string {
    return `${this.region}${'abcdef'[this.indexOf(subnet) % 6]}`;
  }

  /** A new interface in `subnet`, with the addresses the subnet's kind gives (see {@link subnetKind}). */
  allocate(subnet: string): NetworkInterface {
    const index = this.indexOf(subnet);
    const taken = this.used.get(subnet) ?? new Set<number>();
    this.used.set(subnet, taken);
    let host = FIRST_HOST;
    while (taken.has(host)) host += 1;
    if (host > LAST_HOST) throw new Error(`subnet ${subnet} has no free address`);
    taken.add(host);
    const kind = subnetKind(subnet);
    const ipv4 = kind === 'ipv6only' ? undefined : loopbackAddress(this.firstOctet, index, host);
    const ipv6 = kind === 'ipv4' ? undefined : `fd00:ec2:0:${(index + 1).toString(16)}::${host.toString(16)}`;
    return {
      attachmentId: randomUUID(),
      subnetId: subnet,
      networkInterfaceId: `eni-0${randomHex(16)}`,
      macAddress: `02:${randomHex(10).match(/../g)?.join(':')}`,
      privateIPv4Address: ipv4,
      ipv6Address: ipv6,
      // IPv6-only subnets have no IPv4 name; EC2 names their resources by id instead (resource-based names).
      privateDnsName: ipv4 === undefined ? undefined : this.dnsName(ipv4),
      status: 'PRECREATED',
      slot: host,
    };
  }

  release(eni: NetworkInterface): void {
    this.used.get(eni.subnetId)?.delete(eni.slot);
  }

  /** The EC2 private DNS name of an IPv4 address (ip-127-10-0-4.ec2.internal in us-east-1). */
  dnsName(ip: string): string {
    const host = `ip-${ip.replaceAll('.', '-')}`;
    return this.region === 'us-east-1' ? `${host}.ec2.internal` : `${host}.${this.region}.compute.internal`;
  }

  /** The resource-based DNS name EC2 gives an instance (the only kind in IPv6-only subnets). */
  resourceDnsName(id: string): string {
    return this.region === 'us-east-1' ? `${id}.ec2.internal` : `${id}.${this.region}.compute.internal`;
  }

  private indexOf(subnet: string): number {
    let index = this.subnets.indexOf(subnet);
    if (index < 0) index = this.subnets.push(subnet) - 1;
    return index;
  }
}

/**
 * The IPv4 address of slot `host` in the subnet at `index`:
 * 127.<first + index / 16>.<(index % 16) * 16 + host / 256>.<host % 256>, the second octet wrapping
 * within 1-255 (127.0.0.0/16 holds 127.0.0.1, where the emulator itself listens).
 */
function loopbackAddress(first: number, index: number, host: number): string {
  const second = ((first - 1 + Math.floor(index / 16)) % 255) + 1;
  return `127.${second}.${(index % 16) * 16 + Math.floor(host / 256)}.${host % 256}`;
}
