import { CreatePrivateDnsNamespaceCommand } from '@aws-sdk/client-servicediscovery';
import { endpointClientOptions, isLoopbackEndpoint } from '../../../cli/endpoint';
import { RECONCILE_USAGE } from '../../../cli/reconcile-command';
import { createEcsClient, createServiceDiscoveryClient } from '../../../lib/aws-clients';
import { createOrScale } from '../../../local/create-service';
import { createEmulator } from '../../../local/emulator';
import { startDynalite } from '../../../support/dynalite';
import { runCli } from '../../helpers/cli-io';

const run = (args: string[], env: Record<string, string | undefined>) => runCli(args, env);

/** Runs `body` with these variables removed from process.env (where the SDK looks for a region). */
async function withoutEnv<T>(names: string[], body: () => Promise<T>): Promise<T> {
  const saved = Object.fromEntries(names.map((name) => [name, process.env[name]]));
  for (const name of names) delete process.env[name];
  try {
    return await body();
  } finally {
    for (const [name, value] of Object.entries(saved)) if (value !== undefined) process.env[name] = value;
  }
}

const AWS_VARIABLES = ['AWS_REGION', 'AWS_DEFAULT_REGION', 'AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY', 'AWS_PROFILE'];

describe('registrar reconcile', () => {
  // Without a region the SDK v3 fails every call with "Region is missing":
  // https://github.com/aws/aws-sdk-js-v3/issues/1995
  it('reconciles against a loopback endpoint with no region or credentials in the environment', async () => {
    const dynamo = await startDynalite('ecs-cloudmap-registrar-local-tasks');
    const emulator = await createEmulator({ port: 0, timeScale: 0.001, dynamoDbEndpoint: dynamo.endpoint });
    const cloudMap = createServiceDiscoveryClient({ endpoint: emulator.url, region: 'us-east-1' });
    try {
      await cloudMap.send(new CreatePrivateDnsNamespaceCommand({ Name: 'kudos.local', Vpc: 'vpc-local' }));
      await emulator.idle();
      const { code, out, err } = await withoutEnv(AWS_VARIABLES, () =>
        run(['reconcile', '--endpoint', emulator.url, '--namespace', 'kudos.local', '--stage', 'local'], {}),
      );
      expect(err).toBe('');
      expect(code).toBe(0);
      expect(JSON.parse(out)).toMatchObject({ registered: 0, deregistered: 0 });
    } finally {
      cloudMap.destroy();
      await emulator.close();
      await dynamo.stop();
    }
  });

  it('prints the summary and exits 1 when items failed (here: a task table that does not exist)', async () => {
    const dynamo = await startDynalite('ecs-cloudmap-registrar-local-tasks');
    const emulator = await createEmulator({ port: 0, timeScale: 0.001, dynamoDbEndpoint: dynamo.endpoint });
    const cloudMap = createServiceDiscoveryClient({ endpoint: emulator.url, region: 'us-east-1' });
    const ecs = createEcsClient({ endpoint: emulator.url, region: 'us-east-1' });
    try {
      await cloudMap.send(new CreatePrivateDnsNamespaceCommand({ Name: 'kudos.local', Vpc: 'vpc-local' }));
      await createOrScale(ecs, { name: 'api', count: 2, cluster: 'kudos', port: 8080 });
      await emulator.idle();
      const { code, out } = await run(
        ['reconcile', '--endpoint', emulator.url, '--namespace', 'kudos.local', '--stage', 'nosuchstage'],
        {},
      );
      expect(JSON.parse(out)).toMatchObject({ registered: 0, failed: 2 });
      expect(code).toBe(1);
    } finally {
      ecs.destroy();
      cloudMap.destroy();
      await emulator.close();
      await dynamo.stop();
    }
  });

  it('exits 2 with one line for an --endpoint that is not an http(s) URL', async () => {
    for (const endpoint of ['127.0.0.1:4566', 'ftp://127.0.0.1/', 'http://']) {
      const { code, out, err } = await run(['reconcile', '--endpoint', endpoint, '--namespace', 'kudos.local'], {});
      expect(code).toBe(2);
      expect(out).toBe('');
      expect(err.trim().split('\n')).toHaveLength(1);
      expect(err).toMatch(/--endpoint/);
    }
  });

  it('exits 2 with one line for an unknown option or a stray argument', async () => {
    for (const args of [['--nope'], ['extra'], ['--stage']]) {
      const { code, err } = await run(['reconcile', ...args], {});
      expect(code).toBe(2);
      expect(err.trim().split('\n')).toHaveLength(1);
    }
  });

  it('says in --help when it supplies a region and credentials', async () => {
    const { code, out } = await run(['reconcile', '--help'], {});
    expect(code).toBe(0);
    expect(out).toBe(`${RECONCILE_USAGE}\n`);
    expect(out).toMatch(/loopback/);
    expect(out).toMatch(/us-east-1/);
  });
});

describe('endpoint client options', () => {
  it('recognises loopback endpoints, and only those', () => {
    for (const url of [
      'http://127.0.0.1:4566',
      'http://127.1.2.3',
      'http://localhost:4566/',
      'https://LOCALHOST',
      'http://[::1]:4566',
    ]) {
      expect([url, isLoopbackEndpoint(url)]).toEqual([url, true]);
    }
    for (const url of [
      'https://servicediscovery.us-east-1.amazonaws.com',
      'http://10.0.0.1:4566',
      'http://127.0.0.1.example.com',
      'http://localhost.example.com',
      'http://[::2]',
    ]) {
      expect([url, isLoopbackEndpoint(url)]).toEqual([url, false]);
    }
  });

  it('defaults the region to us-east-1 and the credentials to dummy ones for a loopback endpoint', () => {
    expect(endpointClientOptions('http://127.0.0.1:4566', {})).toEqual({
      endpoint: 'http://127.0.0.1:4566',
      region: 'us-east-1',
      credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
    });
  });

  it('keeps the region and credentials of the environment when it sets them, even for a loopback endpoint', () => {
    expect(
      endpointClientOptions('http://localhost:4566', {
        AWS_REGION: 'eu-west-1',
        AWS_ACCESS_KEY_ID: 'AKID',
        AWS_SECRET_ACCESS_KEY: 'secret',
      }),
    ).toEqual({ endpoint: 'http://localhost:4566', region: 'eu-west-1' });
    expect(endpointClientOptions('http://localhost:4566', { AWS_DEFAULT_REGION: 'eu-north-1' })).toMatchObject({
      region: 'eu-north-1',
    });
  });

  it('adds nothing for a remote endpoint or none: the standard AWS environment applies', () => {
    expect(endpointClientOptions('https://ecs.eu-west-1.amazonaws.com', {})).toEqual({
      endpoint: 'https://ecs.eu-west-1.amazonaws.com',
    });
    expect(endpointClientOptions(undefined, {})).toEqual({});
  });
});
