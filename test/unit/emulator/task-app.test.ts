import { request } from 'node:http';
import { EXIT_DRAINED, EXIT_KILLED, TaskApp, type TaskAppIdentity } from '../../../local/emulator/apps/task-app';
import { assertLoopback, NonLoopbackAddressError } from '../../../local/loopback';

// The app stands in for a container's process: at SIGTERM it drains, then exits by itself (0) or is killed
// at the container's stopTimeout with SIGKILL (137 = 128 + 9). StopTask: "a SIGTERM value and a default
// 30-second timeout, after which the SIGKILL value is sent" (https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_StopTask.html);
// common exit codes of stopped tasks: https://repost.aws/knowledge-center/ecs-task-stopped.

const identity: TaskAppIdentity = {
  taskArn: 'arn:aws:ecs:us-east-1:000000000000:task/kudos/0123456789abcdef0123456789abcdef',
  taskId: '0123456789abcdef0123456789abcdef',
  cluster: 'kudos',
  service: 'api',
  taskDefinition: 'api:3',
  container: 'app',
};

interface Reply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

/** One request on a fresh connection (no keep-alive pool), to a loopback address only. */
function call(address: string, port: number, path: string, method = 'GET'): Promise<Reply> {
  assertLoopback(address);
  return new Promise((resolve, reject) => {
    const req = request({ host: address, port, path, method, agent: false }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        body += chunk;
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

const apps: TaskApp[] = [];

async function started(address = '127.0.0.1'): Promise<TaskApp> {
  const app = new TaskApp(identity, address, 0);
  apps.push(app);
  await app.listen();
  return app;
}

afterEach(async () => {
  await Promise.all(apps.splice(0).map((app) => app.close()));
});

describe('the built-in task app', () => {
  it('answers GET on any path with JSON naming its task, service, task definition, container, address and path', async () => {
    const app = await started();
    const reply = await call(app.address, app.port, '/some-request?x=1');
    expect(reply.status).toBe(200);
    expect(reply.headers['content-type']).toBe('application/json');
    expect(reply.headers['x-task-arn']).toBe(identity.taskArn);
    expect(JSON.parse(reply.body)).toEqual({
      ...identity,
      address: '127.0.0.1',
      port: app.port,
      path: '/some-request?x=1',
      draining: false,
    });
  });

  it('answers /health with 200 {"status":"ok"} while serving normally', async () => {
    const app = await started();
    const reply = await call(app.address, app.port, '/health');
    expect(reply.status).toBe(200);
    expect(JSON.parse(reply.body)).toEqual({ status: 'ok' });
  });

  it('exposes Prometheus metrics: a request counter by method and code (no path label), app_draining and app_up', async () => {
    const app = await started();
    await call(app.address, app.port, '/a');
    await call(app.address, app.port, '/b');
    await call(app.address, app.port, '/a', 'POST');
    const reply = await call(app.address, app.port, '/metrics');
    expect(reply.status).toBe(200);
    expect(reply.headers['content-type']).toMatch(/^text\/plain; version=0\.0\.4/);
    expect(reply.body).toContain('# TYPE app_requests_total counter');
    // Two GETs and the scrape itself, which is counted before the counters are written out.
    expect(reply.body).toContain('app_requests_total{method="GET",code="200"} 3');
    expect(reply.body).toContain('app_requests_total{method="POST",code="405"} 1');
    expect(reply.body).not.toMatch(/path=/);
    expect(reply.body).toContain('\napp_draining 0\n');
    expect(reply.body).toContain('\napp_up 1\n');
    expect(reply.body).toContain('task_definition="api:3"');
  });

  it('answers any other method with 405 JSON and Allow: GET', async () => {
    const app = await started();
    const reply = await call(app.address, app.port, '/x', 'DELETE');
    expect(reply.status).toBe(405);
    expect(reply.headers.allow).toBe('GET');
    expect(JSON.parse(reply.body)).toEqual({ message: 'method DELETE not allowed' });
  });

  it('after SIGTERM keeps serving, draining: answers say draining, carry Connection: close, and /health is 503', async () => {
    const app = await started();
    const exited = app.sigterm({ drainMs: 60_000, stopTimeoutMs: 60_000 });
    const answer = await call(app.address, app.port, '/x');
    expect(answer.status).toBe(200);
    expect(answer.headers.connection).toBe('close');
    expect(JSON.parse(answer.body)).toMatchObject({ taskArn: identity.taskArn, draining: true });
    const health = await call(app.address, app.port, '/health');
    expect(health.status).toBe(503);
    expect(JSON.parse(health.body)).toEqual({ status: 'draining' });
    expect((await call(app.address, app.port, '/metrics')).body).toContain('\napp_draining 1\n');
    await app.close();
    await exited;
  });

  it('closes after its drain time and exits 0: connections are refused from then on', async () => {
    const app = await started();
    const port = app.port;
    const began = Date.now();
    const exited = app.sigterm({ drainMs: 150, stopTimeoutMs: 5000 });
    expect((await call(app.address, port, '/x')).status).toBe(200);
    expect(await exited).toBe(EXIT_DRAINED);
    expect(Date.now() - began).toBeGreaterThanOrEqual(140);
    expect(app.listening).toBe(false);
    await expect(call(app.address, port, '/x')).rejects.toMatchObject({ code: 'ECONNREFUSED' });
  });

  it('with a drain of 0 closes at once (an app that exits at SIGTERM)', async () => {
    const app = await started();
    const port = app.port;
    const began = Date.now();
    expect(await app.sigterm({ drainMs: 0, stopTimeoutMs: 5000 })).toBe(EXIT_DRAINED);
    expect(Date.now() - began).toBeLessThan(1000);
    await expect(call(app.address, port, '/x')).rejects.toMatchObject({ code: 'ECONNREFUSED' });
  });

  it('a drain longer than stopTimeout is cut at stopTimeout: killed, exit code 137', async () => {
    const app = await started();
    const began = Date.now();
    expect(await app.sigterm({ drainMs: 60_000, stopTimeoutMs: 150 })).toBe(EXIT_KILLED);
    const took = Date.now() - began;
    expect(took).toBeGreaterThanOrEqual(140);
    expect(took).toBeLessThan(5000);
    expect(app.listening).toBe(false);
  });

  it('with no drain time serves until stopTimeout and is killed (137)', async () => {
    const app = await started();
    expect(await app.sigterm({ stopTimeoutMs: 50 })).toBe(EXIT_KILLED);
    expect(app.listening).toBe(false);
  });

  it('closing drops open keep-alive connections too', async () => {
    const app = await started();
    const { Agent } = await import('node:http');
    const agent = new Agent({ keepAlive: true });
    try {
      await new Promise<void>((resolve, reject) => {
        request({ host: app.address, port: app.port, path: '/x', agent }, (res) => {
          res.resume();
          res.on('end', () => resolve());
        })
          .on('error', reject)
          .end();
      });
      const closed = app.close();
      await expect(Promise.race([closed.then(() => 'closed'), delay(2000, 'hung')])).resolves.toBe('closed');
    } finally {
      agent.destroy();
    }
  });

  it('refuses to listen on an address outside 127.0.0.0/8', async () => {
    const app = new TaskApp(identity, '10.0.0.5', 8080);
    apps.push(app);
    await expect(app.listen()).rejects.toBeInstanceOf(NonLoopbackAddressError);
    expect(app.listening).toBe(false);
  });

  it('reports a port already in use as a listen error (EADDRINUSE)', async () => {
    const first = await started();
    const second = new TaskApp(identity, first.address, first.port);
    apps.push(second);
    await expect(second.listen()).rejects.toMatchObject({ code: 'EADDRINUSE' });
  });
});

function delay<T>(ms: number, value: T): Promise<T> {
  return new Promise((resolve) => setTimeout(() => resolve(value), ms).unref());
}
