import {
  CreateClusterCommand,
  CreateServiceCommand,
  DescribeServicesCommand,
  ECSClient,
  RegisterTaskDefinitionCommand,
  UpdateServiceCommand,
} from '@aws-sdk/client-ecs';
import { fargateTaskDefinition } from './task-definitions';

/**
 * `npm run local:create-service -- NAME [--count N] [--cluster C] [--port P]`: creates (or rescales) an
 * ECS service of N awsvpc Fargate tasks through the real SDK, against the local endpoint
 * (AWS_ENDPOINT_URL_ECS, else http://127.0.0.1:LOCAL_AWS_PORT, the port `npm start` was given, default 4566). The registrar then makes its tasks discoverable.
 */

export interface Args {
  name: string;
  count: number;
  cluster: string;
  port: number;
}

const USAGE =
  'usage: npm run local:create-service -- NAME [--count N (default 2)] [--cluster C (default kudos)] [--port P (default 8080)]';

function parseArgs(argv: string[]): Args {
  const args: Args = { name: '', count: 2, cluster: 'kudos', port: 8080 };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] ?? '';
    if (!arg.startsWith('--')) {
      args.name = arg;
      continue;
    }
    const value = argv[++i];
    if (arg === '--count') args.count = Number(value);
    else if (arg === '--port') args.port = Number(value);
    else if (arg === '--cluster' && value) args.cluster = value;
    else throw new Error(`unknown option ${arg}\n${USAGE}`);
  }
  if (!/^[a-zA-Z0-9_-]{1,255}$/.test(args.name))
    throw new Error(`a service NAME is required (letters, digits, - and _)\n${USAGE}`);
  if (!Number.isInteger(args.count) || args.count < 0) throw new Error(`--count must be an integer >= 0\n${USAGE}`);
  if (!Number.isInteger(args.port) || args.port < 1 || args.port > 65535)
    throw new Error(`--port must be a TCP port\n${USAGE}`);
  return args;
}

/** Creates the cluster, the task definition and the service, or sets the count of the service that exists. */
export async function createOrScale(ecs: ECSClient, args: Args): Promise<string> {
  await ecs.send(new CreateClusterCommand({ clusterName: args.cluster }));
  const { services = [] } = await ecs.send(
    new DescribeServicesCommand({ cluster: args.cluster, services: [args.name] }),
  );
  if (services.some((service) => service.status === 'ACTIVE')) {
    await ecs.send(new UpdateServiceCommand({ cluster: args.cluster, service: args.name, desiredCount: args.count }));
    return `scaled service ${args.name} to ${args.count} task(s)`;
  }
  await ecs.send(
    new RegisterTaskDefinitionCommand(
      fargateTaskDefinition(args.name, [
        {
          name: 'app',
          image: 'public.ecr.aws/nginx/nginx:latest',
          essential: true,
          portMappings: [{ containerPort: args.port, protocol: 'tcp' }],
        },
      ]),
    ),
  );
  await ecs.send(
    new CreateServiceCommand({
      cluster: args.cluster,
      serviceName: args.name,
      taskDefinition: args.name,
      desiredCount: args.count,
      launchType: 'FARGATE',
      networkConfiguration: { awsvpcConfiguration: { subnets: ['subnet-local'], assignPublicIp: 'DISABLED' } },
    }),
  );
  return `created service ${args.name} with ${args.count} task(s) in cluster ${args.cluster}`;
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  const endpoint =
    process.env.AWS_ENDPOINT_URL_ECS ??
    process.env.AWS_ENDPOINT_URL ??
    `http://127.0.0.1:${process.env.LOCAL_AWS_PORT || 4566}`;
  const ecs = new ECSClient({
    endpoint,
    region: process.env.AWS_REGION ?? 'us-east-1',
    credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
  });
  try {
    console.log(await createOrScale(ecs, args));
    console.log(`tasks start in a moment; then: curl http://127.0.0.1:3000/services/${args.name}`);
  } finally {
    ecs.destroy();
  }
}

// Run as a command only (tests import createOrScale).
if (require.main === module)
  main().catch((error: unknown) => {
    const refused =
      error instanceof Error && /ECONNREFUSED|fetch failed/.test(`${error.message} ${String(error.cause)}`);
    console.error(
      refused
        ? 'the local AWS endpoint is not answering: run `npm start` first'
        : error instanceof Error
          ? error.message
          : error,
    );
    process.exit(1);
  });
