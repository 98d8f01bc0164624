import { randomHex, randomUUID } from '../random';
import type { NetworkInterface } from './model';

/**
 * Hands out ENIs with private IPv4 addresses from local subnets: each subnet name gets its own
 * 10.0.x.0/20 block and availability zone, and an address returns to the pool when its task stops.
 */
export class SubnetPool {
  private readonly subnets: string[] = [];
  private readonly used = new Map<string, Set<number>>();
  private cursor = 0;

  constructor(private readonly region: string) {}

  /** The subnet the next task goes to, round-robin as ECS spreads a service across its subnets. */
  pickSubnet(subnets: string[]): string {
    const subnet = subnets[this.cursor % subnets.length] ?? 'subnet-local';
    this.cursor += 1;
    return subnet;
  }

  availabilityZone(subnet: string): string {
    return `${this.region}${'abcdef'[this.indexOf(subnet) % 6]}`;
  }

  allocate(subnet: string): NetworkInterface {
    const index = this.indexOf(subnet);
    const taken = this.used.get(subnet) ?? new Set<number>();
    this.used.set(subnet, taken);
    // AWS reserves the first four addresses and the last one of every subnet.
    let host = 4;
    while (taken.has(host)) host += 1;
    if (host > 4094) throw new Error(`subnet ${subnet} has no free address`);
    taken.add(host);
    const third = (index % 16) * 16 + Math.floor(host / 256);
    const ip = `10.0.${third}.${host % 256}`;
    return {
      attachmentId: randomUUID(),
      subnetId: subnet,
      networkInterfaceId: `eni-0${randomHex(16)}`,
      macAddress: `02:${randomHex(10).match(/../g)?.join(':')}`,
      privateIPv4Address: ip,
      privateDnsName: this.dnsName(ip),
      status: 'PRECREATED',
    };
  }

  release(eni: NetworkInterface): void {
    const [, , third, fourth] = eni.privateIPv4Address.split('.').map(Number);
    if (third === undefined || fourth === undefined) return;
    this.used.get(eni.subnetId)?.delete((third % 16) * 256 + fourth);
  }

  private indexOf(subnet: string): number {
    let index = this.subnets.indexOf(subnet);
    if (index < 0) index = this.subnets.push(subnet) - 1;
    return index;
  }

  private dnsName(ip: string): string {
    const host = `ip-${ip.replaceAll('.', '-')}`;
    return this.region === 'us-east-1' ? `${host}.ec2.internal` : `${host}.${this.region}.compute.internal`;
  }
}
