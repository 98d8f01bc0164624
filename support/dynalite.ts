import { type ChildProcess, spawn } from 'node:child_process';
import type { AddressInfo } from 'node:net';
import { CreateTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import dynalite from 'dynalite';

/**
 * dynalite's dependencies (big.js) break when Node resolves with the `import` condition, as the
 * benchmarks run (for middy's ESM-only package): there it runs in a child process of its own.
 */
function importConditionActive(): boolean {
  return [...process.execArgv, ...(process.env.NODE_OPTIONS ?? '').split(/\s+/)].includes('--conditions=import');
}

async function listenInProcess(): Promise<{ port: number; close: () => Promise<void> }> {
  const server = dynalite({ createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as AddressInfo).port,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

async function listenInChild(): Promise<{ port: number; close: () => Promise<void> }> {
  const script =
    "const s=require('dynalite')({createTableMs:0,deleteTableMs:0,updateTableMs:0});" +
    "s.listen(0,'127.0.0.1',()=>process.stdout.write(String(s.address().port)+'\\n'));";
  const child: ChildProcess = spawn(process.execPath, ['-e', script], {
    cwd: `${__dirname}/..`,
    env: { ...process.env, NODE_OPTIONS: '' },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const port = await new Promise<number>((resolve, reject) => {
    child.stdout?.once('data', (chunk: Buffer) => resolve(Number(String(chunk).trim())));
    child.once('exit', (code) => reject(new Error(`dynalite exited with ${code}`)));
  });
  return {
    port,
    close: async () => {
      child.kill();
    },
  };
}

/** A real DynamoDB implementation (dynalite, in memory) on 127.0.0.1, with the registrar's task table. */
export async function startDynalite(
  tableName = 'tasks',
): Promise<{ client: DynamoDBClient; endpoint: string; tableName: string; stop: () => Promise<void> }> {
  const server = importConditionActive() ? await listenInChild() : await listenInProcess();
  const endpoint = `http://127.0.0.1:${server.port}`;
  const client = new DynamoDBClient({
    endpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
  });
  await client.send(
    new CreateTableCommand({
      TableName: tableName,
      KeySchema: [{ AttributeName: 'taskArn', KeyType: 'HASH' }],
      AttributeDefinitions: [{ AttributeName: 'taskArn', AttributeType: 'S' }],
      BillingMode: 'PAY_PER_REQUEST',
    }),
  );
  return {
    client,
    endpoint,
    tableName,
    stop: async () => {
      client.destroy();
      await server.close();
    },
  };
}
