import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { createServer, type Server, type Socket as TcpSocket } from 'node:net';
import type { CloudMap } from '../cloud-map/cloud-map';
import { type DnsNamespace, respond } from './answers';

const HOST = '127.0.0.1';
/** An idle TCP connection is closed after this long (RFC 7766 6.2.3 suggests seconds, not minutes). */
const TCP_IDLE_MS = 10_000;
/** Attempts to find a port free for both UDP and TCP when the OS picks it. */
const PICK_ATTEMPTS = 5;

export interface DnsServerOptions {
  /** UDP and TCP port on 127.0.0.1; 0 picks one free for both. */
  port: number;
  /** The namespaces as they are at the moment of each query. */
  namespaces: () => readonly DnsNamespace[];
  log?: (line: string) => void;
}

export interface DnsServer {
  readonly port: number;
  close(): Promise<void>;
}

/** Cloud Map's namespaces, services and instances as the answers need them, read at query time. */
export function dnsNamespaces(cloudMap: CloudMap): DnsNamespace[] {
  return cloudMap.namespaceTree().map(({ namespace, services }) => ({
    name: namespace.Name,
    type: namespace.Type,
    soaTtl: namespace.SoaTtl,
    services: services.map((service) => ({
      name: service.Name,
      dnsConfig: service.DnsConfig,
      hasHealthCheck: Boolean(service.HealthCheckCustomConfig || service.HealthCheckConfig),
      instances: [...service.instances.values()].map((instance) => ({
        id: instance.Id,
        attributes: instance.Attributes,
        health: instance.health,
      })),
    })),
  }));
}

/**
 * An authoritative DNS server on 127.0.0.1, UDP and TCP (2-byte length framing, RFC 1035 4.2.2) on one port,
 * answering from `namespaces()` at each query. A busy port rejects with the listen error (code EADDRINUSE).
 */
export async function startDnsServer(options: DnsServerOptions): Promise<DnsServer> {
  const log = options.log ?? (() => undefined);
  for (let attempt = 1; ; attempt++) {
    const udp = createSocket('udp4');
    let port: number;
    try {
      port = await bindUdp(udp, options.port);
    } catch (error) {
      closeQuietly(udp);
      throw error;
    }
    const tcp = createServer();
    try {
      await listenTcp(tcp, port);
    } catch (error) {
      closeQuietly(udp);
      const busy = (error as NodeJS.ErrnoException).code === 'EADDRINUSE';
      if (options.port === 0 && busy && attempt < PICK_ATTEMPTS) continue;
      throw error;
    }
    return serve(udp, tcp, port, options.namespaces, log);
  }
}

function serve(
  udp: UdpSocket,
  tcp: Server,
  port: number,
  namespaces: () => readonly DnsNamespace[],
  log: (line: string) => void,
): DnsServer {
  const answer = (query: Buffer, transport: 'udp' | 'tcp'): Buffer | undefined => {
    try {
      return respond(query, namespaces(), transport);
    } catch (error) {
      log(`dns: no answer to a ${transport} query: ${String(error)}`);
      return undefined;
    }
  };
  udp.on('message', (message, remote) => {
    const response = answer(message, 'udp');
    if (response) udp.send(response, remote.port, remote.address);
  });
  udp.on('error', (error) => log(`dns: udp: ${error.message}`));
  // An accept error (EMFILE...) is logged, never thrown: it would take the whole emulator down.
  tcp.on('error', (error) => log(`dns: tcp: ${error.message}`));
  const connections = new Set<TcpSocket>();
  tcp.on('connection', (socket) => {
    connections.add(socket);
    socket.on('close', () => connections.delete(socket));
    socket.on('error', () => socket.destroy());
    socket.setTimeout(TCP_IDLE_MS, () => socket.destroy());
    let pending = Buffer.alloc(0);
    socket.on('data', (chunk) => {
      pending = Buffer.concat([pending, chunk]);
      while (pending.length >= 2) {
        const length = pending.readUInt16BE(0);
        if (pending.length < 2 + length) break;
        const response = answer(pending.subarray(2, 2 + length), 'tcp');
        pending = pending.subarray(2 + length);
        if (!response) continue;
        const frame = Buffer.alloc(2);
        frame.writeUInt16BE(response.length);
        socket.write(Buffer.concat([frame, response]));
      }
    });
  });
  return {
    port,
    close: async () => {
      for (const socket of connections) socket.destroy();
      await Promise.all([
        new Promise<void>((resolve) => udp.close(() => resolve())),
        new Promise<void>((resolve) => tcp.close(() => resolve())),
      ]);
    },
  };
}

function bindUdp(socket: UdpSocket, port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    socket.once('error', reject);
    socket.bind(port, HOST, () => {
      socket.off('error', reject);
      resolve(socket.address().port);
    });
  });
}

function listenTcp(server: Server, port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, HOST, () => {
      server.off('error', reject);
      resolve();
    });
  });
}

function closeQuietly(socket: UdpSocket): void {
  try {
    socket.close();
  } catch {
    // Never bound, or already closed.
  }
}
