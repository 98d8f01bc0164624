import { DescribeInstancesCommand, EC2Client } from '@aws-sdk/client-ec2';
import { CreateClusterCommand, DescribeContainerInstancesCommand, ListClustersCommand } from '@aws-sdk/client-ecs';
import type { ContainerInstanceInfo } from '../../../local/emulator';
import { type Harness, rejectionOf, startHarness, stopHarness } from './emulator-harness';

let h: Harness;
let ec2: EC2Client;
let instances: ContainerInstanceInfo[];

beforeEach(async () => {
  h = await startHarness();
  ec2 = new EC2Client({
    endpoint: h.emulator.url,
    region: 'us-east-1',
    credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
    maxAttempts: 1,
  });
  await h.ecs.send(new CreateClusterCommand({ clusterName: 'web' }));
  instances = h.emulator.addContainerInstances({
    cluster: 'web',
    count: 3,
    subnets: ['subnet-a', 'subnet-b', 'subnet-dualstack-c'],
  });
});
afterEach(async () => {
  ec2.destroy();
  await stopHarness(h);
});

const form = (body: string) =>
  fetch(h.emulator.url, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded; charset=utf-8' },
    body,
  });

describe('EC2 DescribeInstances (Amazon EC2 API Reference, DescribeInstances)', () => {
  it('InstanceIds: the instance behind a container instance, with its private IPv4 on the primary network interface and its AZ', async () => {
    const { containerInstances = [] } = await h.ecs.send(
      new DescribeContainerInstancesCommand({
        cluster: 'web',
        containerInstances: [instances[0]?.containerInstanceArn ?? ''],
      }),
    );
    const instanceId = containerInstances[0]?.ec2InstanceId ?? '';
    const { Reservations = [] } = await ec2.send(new DescribeInstancesCommand({ InstanceIds: [instanceId] }));
    expect(Reservations).toHaveLength(1);
    expect(Reservations[0]?.OwnerId).toBe('000000000000');
    const [instance] = Reservations[0]?.Instances ?? [];
    expect(instance).toMatchObject({
      InstanceId: instanceId,
      PrivateIpAddress: instances[0]?.privateIpAddress,
      PrivateDnsName: `ip-${instances[0]?.privateIpAddress?.replaceAll('.', '-')}.ec2.internal`,
      State: { Code: 16, Name: 'running' },
      Placement: { AvailabilityZone: instances[0]?.availabilityZone, Tenancy: 'default' },
      SubnetId: 'subnet-a',
    });
    expect(instance?.LaunchTime).toBeInstanceOf(Date);
    expect(instance?.Ipv6Address).toBeUndefined();
    expect(instance?.NetworkInterfaces?.[0]).toMatchObject({
      PrivateIpAddress: instances[0]?.privateIpAddress,
      Attachment: { DeviceIndex: 0, Status: 'attached' },
      PrivateIpAddresses: [{ Primary: true, PrivateIpAddress: instances[0]?.privateIpAddress }],
    });
    expect(instance?.NetworkInterfaces?.[0]?.NetworkInterfaceId).toMatch(/^eni-0[0-9a-f]{16}$/);
  });

  it('Filters: instance-id with several values, private-ip-address, and * wildcards in availability-zone', async () => {
    const ids = instances.map((instance) => instance.ec2InstanceId);
    const byId = await ec2.send(
      new DescribeInstancesCommand({ Filters: [{ Name: 'instance-id', Values: [ids[0] ?? '', ids[2] ?? ''] }] }),
    );
    expect(byId.Reservations?.flatMap((r) => r.Instances?.map((i) => i.InstanceId))).toEqual([ids[0], ids[2]]);
    const byIp = await ec2.send(
      new DescribeInstancesCommand({
        Filters: [{ Name: 'private-ip-address', Values: [instances[1]?.privateIpAddress ?? ''] }],
      }),
    );
    expect(byIp.Reservations?.[0]?.Instances?.[0]?.InstanceId).toBe(ids[1]);
    const all = await ec2.send(
      new DescribeInstancesCommand({
        Filters: [
          { Name: 'availability-zone', Values: ['us-east-1*'] },
          { Name: 'instance-state-name', Values: ['running'] },
        ],
      }),
    );
    expect(all.Reservations).toHaveLength(3);
    const none = await ec2.send(
      new DescribeInstancesCommand({ InstanceIds: [ids[0] ?? ''], Filters: [{ Name: 'subnet-id', Values: ['x'] }] }),
    );
    expect(none.Reservations).toEqual([]);
  });

  it('a dual-stack subnet gives the instance an IPv6 address beside its IPv4', async () => {
    const { Reservations = [] } = await ec2.send(
      new DescribeInstancesCommand({ InstanceIds: [instances[2]?.ec2InstanceId ?? ''] }),
    );
    const [instance] = Reservations[0]?.Instances ?? [];
    expect(instance?.Ipv6Address).toBe(instances[2]?.ipv6Address);
    expect(instance?.Ipv6Address).toMatch(/^fd00:ec2:0:[0-9a-f]+::[0-9a-f]+$/);
    expect(instance?.PrivateIpAddress).toBe(instances[2]?.privateIpAddress);
    expect(instance?.NetworkInterfaces?.[0]?.Ipv6Addresses).toEqual([
      { Ipv6Address: instances[2]?.ipv6Address, IsPrimaryIpv6: false },
    ]);
  });

  it('unknown ids are InvalidInstanceID.NotFound (HTTP 400), malformed ones InvalidInstanceID.Malformed, unknown filters InvalidParameterValue (Amazon EC2 API Reference, Error codes)', async () => {
    const missing = await rejectionOf(ec2.send(new DescribeInstancesCommand({ InstanceIds: ['i-0123456789abcdef0'] })));
    expect(missing.name).toBe('InvalidInstanceID.NotFound');
    expect(missing.message).toBe("The instance ID 'i-0123456789abcdef0' does not exist");
    expect((missing.$metadata as { httpStatusCode: number }).httpStatusCode).toBe(400);
    const two = await rejectionOf(
      ec2.send(new DescribeInstancesCommand({ InstanceIds: ['i-0123456789abcdef0', 'i-0123456789abcdef1'] })),
    );
    expect(two.message).toBe("The instance IDs 'i-0123456789abcdef0, i-0123456789abcdef1' do not exist");
    const malformed = await rejectionOf(ec2.send(new DescribeInstancesCommand({ InstanceIds: ['web-1'] })));
    expect(malformed.name).toBe('InvalidInstanceID.Malformed');
    const filter = await rejectionOf(
      ec2.send(new DescribeInstancesCommand({ Filters: [{ Name: 'no-such-filter', Values: ['x'] }] })),
    );
    expect(filter.name).toBe('InvalidParameterValue');
  });

  it('MaxResults pages through reservations with NextToken, and cannot be combined with InstanceIds', async () => {
    h.emulator.addContainerInstances({ cluster: 'web', count: 3 });
    const first = await ec2.send(new DescribeInstancesCommand({ MaxResults: 5 }));
    expect(first.Reservations).toHaveLength(5);
    const rest = await ec2.send(new DescribeInstancesCommand({ MaxResults: 5, NextToken: first.NextToken }));
    expect(rest.Reservations).toHaveLength(1);
    expect(rest.NextToken).toBeUndefined();
    const combined = await rejectionOf(
      ec2.send(new DescribeInstancesCommand({ MaxResults: 5, InstanceIds: [instances[0]?.ec2InstanceId ?? ''] })),
    );
    expect(combined.name).toBe('InvalidParameterCombination');
  });
});

describe('EC2 Query protocol on the shared endpoint', () => {
  it('answers a form-encoded call in XML with the 2016-11-15 namespace and a requestId, and errors as <Response><Errors> (Amazon EC2 API Reference, Query requests)', async () => {
    const id = instances[0]?.ec2InstanceId ?? '';
    const ok = await form(`Action=DescribeInstances&Version=2016-11-15&InstanceId.1=${id}`);
    expect(ok.status).toBe(200);
    expect(ok.headers.get('content-type')).toMatch(/^text\/xml/);
    const xml = await ok.text();
    expect(xml).toMatch(
      /^<\?xml version="1.0" encoding="UTF-8"\?>\n<DescribeInstancesResponse xmlns="http:\/\/ec2.amazonaws.com\/doc\/2016-11-15\/"><requestId>[0-9a-f-]{36}<\/requestId><reservationSet><item><reservationId>r-/,
    );
    expect(xml).toContain(`<instancesSet><item><instanceId>${id}</instanceId>`);
    expect(xml).toContain(`<privateIpAddress>${instances[0]?.privateIpAddress}</privateIpAddress>`);
    const missing = await form('Action=DescribeInstances&Version=2016-11-15&InstanceId.1=i-0123456789abcdef0');
    expect(missing.status).toBe(400);
    expect(await missing.text()).toMatch(
      /<Response><Errors><Error><Code>InvalidInstanceID\.NotFound<\/Code><Message>The instance ID 'i-0123456789abcdef0' does not exist<\/Message><\/Error><\/Errors><RequestID>[0-9a-f-]{36}<\/RequestID><\/Response>$/,
    );
    const unknown = await form('Action=RunInstances&Version=2016-11-15');
    expect(await unknown.text()).toContain('<Code>InvalidAction</Code>');
  });

  it('leaves the JSON services as they were: ECS still answers beside EC2', async () => {
    await form('Action=DescribeInstances&Version=2016-11-15');
    const { clusterArns } = await h.ecs.send(new ListClustersCommand({}));
    expect(clusterArns).toEqual(['arn:aws:ecs:us-east-1:000000000000:cluster/web']);
    const health = (await (await fetch(h.emulator.url)).json()) as { services: string[] };
    expect(health.services).toContain('ec2');
  });
});
