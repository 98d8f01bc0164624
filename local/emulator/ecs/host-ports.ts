import type { ContainerDefinition, ContainerInstance, NetworkBinding, Task, TaskDefinition } from './model';

/**
 * The host ports the agent assigns when a bridge-mode mapping has no hostPort (or 0). ECS takes them
 * from the instance's ephemeral range, `/proc/sys/net/ipv4/ip_local_port_range` (Amazon ECS API
 * Reference, PortMapping hostPort; Amazon ECS Developer Guide, container agent configuration
 * ECS_DYNAMIC_HOST_PORT_RANGE). On the kernels of the ECS-optimized AMIs (Linux 4.14 and later) that
 * range is 32768-60999; 61000 was the top before Linux 4.x. The agent hands them out in order from the
 * last one it assigned, so a fresh instance gives 32768 first.
 */
export const DYNAMIC_PORT_RANGE = { first: 32768, last: 60999 } as const;

/** Ports every container instance registers as reserved: SSH, Docker and the agent's own (22, 2375, 2376, 51678, 51679). */
export const RESERVED_PORTS: readonly number[] = [22, 2375, 2376, 51678, 51679];

/** What an emulated container instance registers (a t3.medium: 2 vCPUs, 4 GiB less what the OS keeps). */
export const REGISTERED_CPU = 2048;
export const REGISTERED_MEMORY = 3904;

export type Protocol = 'tcp' | 'udp';

/** The host ports a task would hold on an instance whatever the agent picks: host mode, and fixed bridge ports. */
export function staticHostPorts(definition: TaskDefinition): { port: number; protocol: Protocol }[] {
  if (definition.networkMode !== 'bridge' && definition.networkMode !== 'host') return [];
  return definition.containerDefinitions.flatMap((container) =>
    (container.portMappings ?? [])
      .map((mapping) => ({
        port: definition.networkMode === 'host' ? (mapping.containerPort ?? 0) : (mapping.hostPort ?? 0),
        protocol: protocolOf(mapping.protocol),
      }))
      .filter((binding) => binding.port > 0),
  );
}

/** Whether the instance is ACTIVE and none of the task's fixed host ports is taken or reserved on it. */
export function fits(instance: ContainerInstance, definition: TaskDefinition): boolean {
  if (instance.status !== 'ACTIVE') return false;
  const wanted = staticHostPorts(definition);
  const seen = new Set<string>();
  for (const { port, protocol } of wanted) {
    const key = `${protocol}/${port}`;
    if (seen.has(key) || instance.usedPorts[protocol].has(port)) return false;
    if (protocol === 'tcp' && RESERVED_PORTS.includes(port)) return false;
    seen.add(key);
  }
  return true;
}

/**
 * Binds one container's port mappings on the instance, as the agent reports them: host mode binds
 * hostPort = containerPort; bridge mode binds the fixed hostPort or the next free dynamic port. Only
 * the IPv4 wildcard binding is reported, as ECS_EXCLUDE_IPV6_PORTBINDING (true by default) has it.
 */
export function bindPorts(
  instance: ContainerInstance,
  container: ContainerDefinition,
  networkMode: TaskDefinition['networkMode'],
): NetworkBinding[] | undefined {
  if (networkMode !== 'bridge' && networkMode !== 'host') return undefined;
  return (container.portMappings ?? []).map((mapping) => {
    const protocol = protocolOf(mapping.protocol);
    const containerPort = mapping.containerPort ?? 0;
    const fixed = networkMode === 'host' ? containerPort : (mapping.hostPort ?? 0);
    const hostPort = fixed > 0 ? fixed : nextDynamicPort(instance, protocol);
    instance.usedPorts[protocol].add(hostPort);
    return { bindIP: '0.0.0.0', containerPort, hostPort, protocol };
  });
}

/** Frees the host ports a stopped task held. */
export function releasePorts(instance: ContainerInstance, task: Task): void {
  for (const container of task.containers) {
    for (const binding of container.networkBindings ?? []) {
      instance.usedPorts[protocolOf(binding.protocol)].delete(binding.hostPort);
    }
  }
}

function nextDynamicPort(instance: ContainerInstance, protocol: Protocol): number {
  const { first, last } = DYNAMIC_PORT_RANGE;
  const size = last - first + 1;
  for (let step = 1; step <= size; step++) {
    const candidate = first + ((instance.lastDynamicPort - first + step) % size);
    if (!instance.usedPorts[protocol].has(candidate)) {
      instance.lastDynamicPort = candidate;
      return candidate;
    }
  }
  throw new Error(`container instance ${instance.id} has no free dynamic host port`);
}

function protocolOf(raw: string | undefined): Protocol {
  return raw === 'udp' ? 'udp' : 'tcp';
}
