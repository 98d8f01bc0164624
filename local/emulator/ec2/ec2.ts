import { AwsError } from '../aws-error';
import type { Clock } from '../clock';
import { type QueryInput, readQueryFilters, readQueryList } from '../query-protocol';
import { randomHex } from '../random';
import { paginate } from '../wire';
import type { NetworkInterface, SubnetPool } from './network';

/** The EC2 API version the SDK sends, and the namespace of its answers. */
export const EC2_VERSION = '2016-11-15';
export const EC2_XMLNS = `http://ec2.amazonaws.com/doc/${EC2_VERSION}/`;

/** An emulated EC2 instance: enough of one to host ECS container instances and be described. */
export interface Ec2Instance {
  instanceId: string;
  reservationId: string;
  imageId: string;
  instanceType: string;
  launchTime: Date;
  availabilityZone: string;
  subnetId: string;
  eni: NetworkInterface;
  eniAttachmentId: string;
}

/** Where an instance goes, and optionally who it is (as an ECS agent's identity document says). */
export interface LaunchSpec {
  subnet: string;
  instanceId?: string;
  privateIp?: string;
  availabilityZone?: string;
  instanceType?: string;
}

export interface Ec2Options {
  clock: Clock;
  pool: SubnetPool;
  region: string;
  accountId: string;
}

const INSTANCE_ID = /^i-[0-9a-f]{8}(?:[0-9a-f]{9})?$/;
/** DescribeInstances' MaxResults range (Amazon EC2 API Reference, DescribeInstances). */
const PAGE = { min: 5, max: 1000 };

/**
 * Amazon EC2 in memory, for DescribeInstances only: the instances behind ECS container instances, with
 * their private IPv4 (and IPv6 in dual-stack subnets) on a primary network interface.
 */
export class Ec2 {
  private readonly instances = new Map<string, Ec2Instance>();
  private readonly vpcId = `vpc-0${randomHex(16)}`;
  private readonly imageId = `ami-0${randomHex(16)}`;
  private readonly securityGroupId = `sg-0${randomHex(16)}`;

  constructor(private readonly options: Ec2Options) {}

  readonly handlers: Record<string, (input: QueryInput) => Record<string, unknown>> = {
    DescribeInstances: (input) => this.describeInstances(input),
  };

  /** Starts an instance in `spec.subnet` (or adopts the id and address an identity document names). */
  launch(spec: LaunchSpec): Ec2Instance {
    const existing = spec.instanceId ? this.instances.get(spec.instanceId) : undefined;
    if (existing) return existing;
    const eni = this.options.pool.allocate(spec.subnet);
    if (spec.privateIp) {
      eni.privateIPv4Address = spec.privateIp;
      eni.privateDnsName = this.options.pool.dnsName(spec.privateIp);
    }
    eni.status = 'ATTACHED';
    const instance: Ec2Instance = {
      instanceId: spec.instanceId ?? `i-0${randomHex(16)}`,
      reservationId: `r-0${randomHex(16)}`,
      imageId: this.imageId,
      instanceType: spec.instanceType ?? 't3.medium',
      launchTime: this.options.clock.now(),
      availabilityZone: spec.availabilityZone ?? this.options.pool.availabilityZone(spec.subnet),
      subnetId: spec.subnet,
      eni,
      eniAttachmentId: `eni-attach-0${randomHex(16)}`,
    };
    this.instances.set(instance.instanceId, instance);
    return instance;
  }

  get(instanceId: string): Ec2Instance | undefined {
    return this.instances.get(instanceId);
  }

  /** The private DNS name EC2 reports: IP-based where there is an IPv4, resource-based otherwise. */
  privateDnsName(instance: Ec2Instance): string {
    return instance.eni.privateIPv4Address === undefined
      ? this.options.pool.resourceDnsName(instance.instanceId)
      : this.options.pool.dnsName(instance.eni.privateIPv4Address);
  }

  private describeInstances(input: QueryInput): Record<string, unknown> {
    if (input.get('DryRun') === 'true') {
      throw new AwsError('DryRunOperation', 'Request would have succeeded, but DryRun flag is set.', 412);
    }
    const ids = readQueryList(input, 'InstanceId');
    const maxResults = input.get('MaxResults');
    if (maxResults !== undefined && ids.length > 0) {
      throw new AwsError(
        'InvalidParameterCombination',
        'The parameter instancesSet cannot be used with the parameter maxResults',
      );
    }
    for (const id of ids) {
      if (!INSTANCE_ID.test(id)) throw new AwsError('InvalidInstanceID.Malformed', `Invalid id: "${id}"`);
    }
    const missing = ids.filter((id) => !this.instances.has(id));
    if (missing.length === 1) {
      throw new AwsError('InvalidInstanceID.NotFound', `The instance ID '${missing[0]}' does not exist`);
    }
    if (missing.length > 1) {
      throw new AwsError('InvalidInstanceID.NotFound', `The instance IDs '${missing.join(', ')}' do not exist`);
    }
    const filters = readQueryFilters(input).map(({ name, values }) => {
      const read = FILTERS[name];
      if (!read) throw new AwsError('InvalidParameterValue', `The filter '${name}' is invalid`);
      const patterns = values.map(globToRegExp);
      return (instance: Ec2Instance) => {
        const actual = read(instance);
        return actual !== undefined && patterns.some((pattern) => pattern.test(actual));
      };
    });
    const selected = (ids.length > 0 ? ids.map((id) => this.instances.get(id)) : [...this.instances.values()])
      .filter((instance): instance is Ec2Instance => instance !== undefined)
      .filter((instance) => filters.every((matches) => matches(instance)));
    let page = selected;
    let nextToken: string | undefined;
    if (maxResults !== undefined) {
      const size = Number(maxResults);
      if (!Number.isInteger(size) || size < PAGE.min || size > PAGE.max) {
        throw new AwsError(
          'InvalidParameterValue',
          `Value ( ${maxResults} ) for parameter maxResults is invalid. Expecting a value between ${PAGE.min} and ${PAGE.max}.`,
        );
      }
      ({ page, nextToken } = paginate(selected, input.get('NextToken'), size, {
        defaultSize: size,
        maxSize: PAGE.max,
        errorCode: 'InvalidParameterValue',
      }));
    }
    return {
      // EC2 puts each launch in its own reservation; the emulator launches one instance at a time.
      reservationSet: page.map((instance) => ({
        reservationId: instance.reservationId,
        ownerId: this.options.accountId,
        groupSet: [],
        instancesSet: [this.instanceView(instance)],
      })),
      nextToken,
    };
  }

  /** One `instancesSet` item (Amazon EC2 API Reference, Instance), in EC2's element order. */
  private instanceView(instance: Ec2Instance): Record<string, unknown> {
    const { eni } = instance;
    const dnsName = this.privateDnsName(instance);
    const groups = [{ groupId: this.securityGroupId, groupName: 'default' }];
    return {
      instanceId: instance.instanceId,
      imageId: instance.imageId,
      instanceState: { code: 16, name: 'running' },
      privateDnsName: dnsName,
      dnsName: '',
      reason: '',
      amiLaunchIndex: 0,
      productCodes: [],
      instanceType: instance.instanceType,
      launchTime: instance.launchTime,
      placement: { availabilityZone: instance.availabilityZone, groupName: '', tenancy: 'default' },
      monitoring: { state: 'disabled' },
      subnetId: instance.subnetId,
      vpcId: this.vpcId,
      privateIpAddress: eni.privateIPv4Address,
      sourceDestCheck: true,
      groupSet: groups,
      architecture: 'x86_64',
      rootDeviceType: 'ebs',
      rootDeviceName: '/dev/xvda',
      blockDeviceMapping: [],
      virtualizationType: 'hvm',
      clientToken: '',
      hypervisor: 'xen',
      networkInterfaceSet: [
        {
          networkInterfaceId: eni.networkInterfaceId,
          subnetId: instance.subnetId,
          vpcId: this.vpcId,
          description: '',
          ownerId: this.options.accountId,
          status: 'in-use',
          macAddress: eni.macAddress,
          privateIpAddress: eni.privateIPv4Address,
          privateDnsName: eni.privateIPv4Address === undefined ? undefined : dnsName,
          sourceDestCheck: true,
          groupSet: groups,
          attachment: {
            attachmentId: instance.eniAttachmentId,
            deviceIndex: 0,
            status: 'attached',
            attachTime: instance.launchTime,
            deleteOnTermination: true,
            networkCardIndex: 0,
          },
          privateIpAddressesSet:
            eni.privateIPv4Address === undefined
              ? undefined
              : [{ privateIpAddress: eni.privateIPv4Address, privateDnsName: dnsName, primary: true }],
          ipv6AddressesSet:
            eni.ipv6Address === undefined ? undefined : [{ ipv6Address: eni.ipv6Address, isPrimaryIpv6: false }],
          interfaceType: 'interface',
        },
      ],
      ebsOptimized: false,
      enaSupport: true,
      ipv6Address: eni.ipv6Address,
      privateDnsNameOptions: {
        hostnameType: eni.privateIPv4Address === undefined ? 'resource-name' : 'ip-name',
        enableResourceNameDnsARecord: false,
        enableResourceNameDnsAAAARecord: eni.privateIPv4Address === undefined,
      },
      platformDetails: 'Linux/UNIX',
      usageOperation: 'RunInstances',
    };
  }
}

/** The DescribeInstances filters the emulator answers; any other name is InvalidParameterValue. */
const FILTERS: Record<string, (instance: Ec2Instance) => string | undefined> = {
  'instance-id': (instance) => instance.instanceId,
  'private-ip-address': (instance) => instance.eni.privateIPv4Address,
  'ipv6-address': (instance) => instance.eni.ipv6Address,
  'availability-zone': (instance) => instance.availabilityZone,
  'subnet-id': (instance) => instance.subnetId,
  'instance-state-name': () => 'running',
  'instance-type': (instance) => instance.instanceType,
};

/** EC2 filter values may use `*` (any run) and `?` (one character). */
function globToRegExp(glob: string): RegExp {
  const escaped = glob
    .replace(/[.+^${}()|[\]\\]/g, '\\$&')
    .replaceAll('*', '.*')
    .replaceAll('?', '.');
  return new RegExp(`^${escaped}$`);
}
