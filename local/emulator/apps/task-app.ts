import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { assertLoopback } from '../../loopback';

/** Who an app is: the task and container it stands for, as every answer names them. */
export interface TaskAppIdentity {
  taskArn: string;
  taskId: string;
  /** The cluster's name. */
  cluster: string;
  /** The ECS service's name, or null for a standalone task. */
  service: string | null;
  /** `family:revision`. */
  taskDefinition: string;
  container: string;
}

/** The body of `GET <any path>` (the shape `npm run local:call` and the benchmark read). */
export interface TaskAppAnswer extends TaskAppIdentity {
  address: string;
  port: number;
  path: string;
  draining: boolean;
}

/** What the app does at SIGTERM: serve (draining) for `drainMs`, but never past `stopTimeoutMs` (then SIGKILL). */
export interface Sigterm {
  /** Real milliseconds the app keeps serving after SIGTERM before it exits by itself; absent: until killed. */
  drainMs?: number;
  /** Real milliseconds after which ECS kills the container (its stopTimeout). */
  stopTimeoutMs: number;
}

/** The exit code of a container that exited by itself, and of one ECS killed with SIGKILL (128 + 9). */
export const EXIT_DRAINED = 0;
export const EXIT_KILLED = 137;

/**
 * The built-in app of a live task: one HTTP server per port mapping, on the task's (or its container
 * instance's) loopback address. It answers like a small real service, and at SIGTERM behaves as a
 * well-behaved one: it fails its health path, asks clients to close their connections, keeps serving
 * for its drain time and then exits; if it is still serving at stopTimeout, ECS kills it.
 */
export class TaskApp {
  private readonly server: Server;
  private drainingSince: number | undefined;
  private timer: NodeJS.Timeout | undefined;
  private onClose: (() => void) | undefined;
  private closing: Promise<void> | undefined;
  /** The exit code, once SIGTERM was sent (a second SIGTERM changes nothing). */
  private exited: Promise<number> | undefined;
  private readonly requests = new Map<string, number>();

  private portValue: number;

  /** `port` 0 lets the OS pick one (tests); `port` then reads the one bound. */
  constructor(
    readonly identity: TaskAppIdentity,
    readonly address: string,
    port: number,
  ) {
    this.portValue = port;
    this.server = createServer((request, response) => this.answer(request, response));
  }

  get port(): number {
    return this.portValue;
  }

  get draining(): boolean {
    return this.drainingSince !== undefined;
  }

  /** Whether the server still accepts connections. */
  get listening(): boolean {
    return this.server.listening;
  }

  /**
   * Listens on the app's address and port; resolves once connections are accepted. Rejects with
   * NonLoopbackAddressError for an address outside 127.0.0.0/8, or with the listen error (EADDRINUSE...).
   */
  listen(): Promise<void> {
    return new Promise((resolve, reject) => {
      assertLoopback(this.address);
      const onError = (error: Error) => reject(error);
      this.server.once('error', onError);
      this.server.listen(this.port, this.address, () => {
        this.server.off('error', onError);
        this.portValue = (this.server.address() as AddressInfo).port;
        if (!this.closing) return resolve();
        // Closed while the listen was under way (the task stopped before it ran): close what just opened.
        this.server.close();
        reject(new Error('closed before it listened'));
      });
    });
  }

  /**
   * "SIGTERM": from now on the app is draining; it exits by itself after the drain time (exit code 0)
   * or is killed at stopTimeout (137), whichever comes first. Resolves with the exit code once closed.
   */
  sigterm({ drainMs, stopTimeoutMs }: Sigterm): Promise<number> {
    if (this.exited) return this.exited;
    if (this.closing) return this.closing.then(() => EXIT_KILLED);
    this.drainingSince = Date.now();
    const killed = drainMs === undefined || drainMs > stopTimeoutMs;
    const wait = Math.max(0, killed ? stopTimeoutMs : drainMs);
    this.exited = new Promise((resolve) => {
      // Closed before its time (the emulator closing): the process is gone as if killed.
      this.onClose = () => resolve(EXIT_KILLED);
      const exit = () => {
        this.timer = undefined;
        this.onClose = undefined;
        void this.close().then(() => resolve(killed ? EXIT_KILLED : EXIT_DRAINED));
      };
      if (wait === 0) exit();
      else this.timer = setTimeout(exit, wait);
    });
    return this.exited;
  }

  /** Stops at once: closes the server and every connection (the emulator closing, or a task that never ran). */
  close(): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    const onClose = this.onClose;
    this.onClose = undefined;
    this.closing ??= new Promise<void>((resolve) => {
      if (!this.server.listening) return resolve();
      this.server.close(() => resolve());
      this.server.closeAllConnections();
    });
    if (onClose) void this.closing.then(onClose);
    return this.closing;
  }

  private answer(request: IncomingMessage, response: ServerResponse): void {
    const path = request.url ?? '/';
    const pathname = path.split('?')[0];
    let route: 'method' | 'health' | 'metrics' | 'app' = 'app';
    if (request.method !== 'GET') route = 'method';
    else if (pathname === '/health') route = 'health';
    else if (pathname === '/metrics') route = 'metrics';
    const status = route === 'method' ? 405 : route === 'health' && this.draining ? 503 : 200;
    this.count(request.method ?? 'UNKNOWN', status);
    response.setHeader('x-task-arn', this.identity.taskArn);
    // A draining app asks each client to close its connection, so keep-alive pools move to other tasks.
    if (this.draining) response.setHeader('Connection', 'close');
    if (route === 'method') {
      response.setHeader('Allow', 'GET');
      this.json(response, 405, { message: `method ${request.method} not allowed` });
      return;
    }
    if (route === 'health') {
      this.json(response, status, { status: this.draining ? 'draining' : 'ok' });
      return;
    }
    if (route === 'metrics') {
      response.writeHead(200, { 'Content-Type': 'text/plain; version=0.0.4; charset=utf-8' });
      response.end(this.metrics());
      return;
    }
    const body: TaskAppAnswer = {
      ...this.identity,
      address: this.address,
      port: this.port,
      path,
      draining: this.draining,
    };
    this.json(response, 200, body);
  }

  private json(response: ServerResponse, status: number, body: unknown): void {
    response.writeHead(status, { 'Content-Type': 'application/json' });
    response.end(JSON.stringify(body));
  }

  private count(method: string, status: number): void {
    const key = `method="${escapeLabel(method)}",code="${status}"`;
    this.requests.set(key, (this.requests.get(key) ?? 0) + 1);
  }

  /** Prometheus text exposition format 0.0.4; labels carry no path, so series stay few. */
  private metrics(): string {
    const info = [
      `task_id="${escapeLabel(this.identity.taskId)}"`,
      `cluster="${escapeLabel(this.identity.cluster)}"`,
      `service="${escapeLabel(this.identity.service ?? '')}"`,
      `task_definition="${escapeLabel(this.identity.taskDefinition)}"`,
      `container="${escapeLabel(this.identity.container)}"`,
    ].join(',');
    return [
      '# HELP app_requests_total HTTP requests answered, by method and status code.',
      '# TYPE app_requests_total counter',
      ...[...this.requests].map(([labels, count]) => `app_requests_total{${labels}} ${count}`),
      '# HELP app_draining 1 once the app received SIGTERM and is draining, 0 before.',
      '# TYPE app_draining gauge',
      `app_draining ${this.draining ? 1 : 0}`,
      '# HELP app_up 1 while the app serves.',
      '# TYPE app_up gauge',
      'app_up 1',
      '# HELP app_info The task and container this app stands for.',
      '# TYPE app_info gauge',
      `app_info{${info}} 1`,
      '',
    ].join('\n');
  }
}

function escapeLabel(value: string): string {
  return value.replaceAll('\\', '\\\\').replaceAll('"', '\\"').replaceAll('\n', '\\n');
}
