import {
  type Answer,
  AUTHORITATIVE_ANSWER,
  type DecodedPacket,
  decode,
  encode,
  type OptAnswer,
  type Packet,
  RECURSION_DESIRED,
  TRUNCATED_RESPONSE,
} from 'dns-packet';
import { shuffled } from '../random';

/**
 * What Route 53 answers for the private hosted zone of a Cloud Map namespace, as a pure function of the query
 * and a snapshot of Cloud Map (no sockets, no clock): the DNS server in ./server.ts is a thin shell around
 * `respond`. The behaviour follows the Cloud Map and Route 53 documentation cited in
 * test/unit/emulator/dns-answers.test.ts.
 */

/** One instance of a service, as Cloud Map holds it. */
export interface DnsInstance {
  id: string;
  attributes: Readonly<Record<string, string>>;
  /** Cloud Map's health of the instance (UNKNOWN for a service without a health check). */
  health: 'HEALTHY' | 'UNHEALTHY' | 'UNKNOWN';
}

/** One service of a namespace; services without DnsConfig have no records. */
export interface DnsService {
  name: string;
  dnsConfig?: {
    RoutingPolicy: 'MULTIVALUE' | 'WEIGHTED';
    DnsRecords: readonly { Type: 'A' | 'AAAA' | 'SRV' | 'CNAME'; TTL: number }[];
  };
  /** HealthCheckCustomConfig or HealthCheckConfig is set: only then does an instance's health matter. */
  hasHealthCheck: boolean;
  instances: readonly DnsInstance[];
}

/** A Cloud Map namespace; only DNS_PRIVATE ones are answered here. */
export interface DnsNamespace {
  name: string;
  type: 'HTTP' | 'DNS_PRIVATE' | 'DNS_PUBLIC';
  /** CreatePrivateDnsNamespace Properties.DnsProperties.SOA.TTL. */
  soaTtl?: number;
  services: readonly DnsService[];
}

export type Rcode = 'NOERROR' | 'FORMERR' | 'SERVFAIL' | 'NXDOMAIN' | 'NOTIMP' | 'REFUSED';

/** The sections of an answer to one question. */
export interface DnsAnswer {
  rcode: Rcode;
  answers: Answer[];
  authorities: Answer[];
  additionals: Answer[];
}

/** Route 53 answers a multivalue query with up to eight records. */
export const MULTIVALUE_MAX_RECORDS = 8;
/** The SOA and NS records every private hosted zone gets (the same four name servers for every private zone). */
export const PRIVATE_ZONE_NAME_SERVERS = [
  'ns-1536.awsdns-00.co.uk',
  'ns-0.awsdns-00.com',
  'ns-1024.awsdns-00.org',
  'ns-512.awsdns-00.net',
];
export const SOA_RNAME = 'awsdns-hostmaster.amazon.com';
/** Serial, refresh, retry, expire, minimum of the SOA that Route 53 creates. */
const SOA_TIMERS = { serial: 1, refresh: 7200, retry: 900, expire: 1209600, minimum: 86400 };
/** The NS record's TTL in a hosted zone Route 53 creates. */
const NS_TTL = 172800;
/** The SOA record's TTL when the namespace has none (hosted zones made before SOA.TTL existed). */
const DEFAULT_SOA_TTL = 900;
/** SRV priority and weight: "both set to 1 and can't be changed". */
const SRV_PRIORITY = 1;
const SRV_WEIGHT = 1;
/** A DNS message over UDP without EDNS; with EDNS, the client's size, capped here. */
export const UDP_MAX_PLAIN = 512;
const UDP_MAX_EDNS = 4096;
/** The UDP payload size this server advertises in its OPT record (the DNS flag day 2020 value). */
const EDNS_PAYLOAD = 1232;

const RCODES: Record<Rcode, number> = { NOERROR: 0, FORMERR: 1, SERVFAIL: 2, NXDOMAIN: 3, NOTIMP: 4, REFUSED: 5 };

type AddressType = 'A' | 'AAAA';
const ADDRESS_ATTRIBUTE: Record<AddressType, string> = { A: 'AWS_INSTANCE_IPV4', AAAA: 'AWS_INSTANCE_IPV6' };

/** DNS names compare case-insensitively and without the root's trailing dot. */
export function normalizeName(name: string): string {
  return name.toLowerCase().replace(/\.+$/, '');
}

/** The private DNS namespace whose zone holds `name` (the longest match), if any. */
function zoneOf(name: string, namespaces: readonly DnsNamespace[]): DnsNamespace | undefined {
  let best: DnsNamespace | undefined;
  for (const ns of namespaces) {
    if (ns.type !== 'DNS_PRIVATE') continue;
    const zone = normalizeName(ns.name);
    if ((name === zone || name.endsWith(`.${zone}`)) && (!best || zone.length > normalizeName(best.name).length))
      best = ns;
  }
  return best;
}

/** Instances count as healthy without a health check; with one, only HEALTHY does. */
function isHealthy(service: DnsService, instance: DnsInstance): boolean {
  return !service.hasHealthCheck || instance.health === 'HEALTHY';
}

/**
 * The instances whose record of a type Route 53 returns: healthy ones (all when none is healthy: "as if all the
 * instances were healthy" for WEIGHTED, "up to eight unhealthy records" for MULTIVALUE), then one at random
 * (WEIGHTED) or up to eight in a random order (MULTIVALUE).
 */
function pick(service: DnsService, candidates: readonly DnsInstance[], random: () => number): DnsInstance[] {
  if (candidates.length === 0) return [];
  const healthy = candidates.filter((instance) => isHealthy(service, instance));
  const pool = healthy.length > 0 ? healthy : candidates;
  const order = shuffled(pool, random);
  return service.dnsConfig?.RoutingPolicy === 'WEIGHTED' ? order.slice(0, 1) : order.slice(0, MULTIVALUE_MAX_RECORDS);
}

/** The record types a service's DnsConfig gives its name, each with its TTL and the instances that have one. */
function serviceRecords(service: DnsService): Map<string, { ttl: number; instances: DnsInstance[] }> {
  const out = new Map<string, { ttl: number; instances: DnsInstance[] }>();
  for (const record of service.dnsConfig?.DnsRecords ?? []) {
    const attribute =
      record.Type === 'A' || record.Type === 'AAAA'
        ? ADDRESS_ATTRIBUTE[record.Type]
        : record.Type === 'SRV'
          ? 'AWS_INSTANCE_PORT'
          : 'AWS_INSTANCE_CNAME';
    const instances = service.instances.filter((instance) => Boolean(instance.attributes[attribute]));
    if (instances.length > 0) out.set(record.Type, { ttl: record.TTL, instances });
  }
  return out;
}

/** The SRV target name Cloud Map gives an instance: instance-id.service-name.namespace-name. */
export function srvTarget(instance: DnsInstance, service: DnsService, ns: DnsNamespace): string {
  return `${instance.id}.${service.name}.${ns.name}`.toLowerCase();
}

/** The A/AAAA records Cloud Map creates under an SRV target name, from the instance's addresses. */
function targetAddresses(name: string, instance: DnsInstance, ttl: number, types: readonly AddressType[]): Answer[] {
  const out: Answer[] = [];
  for (const type of types) {
    const address = instance.attributes[ADDRESS_ATTRIBUTE[type]];
    if (address) out.push({ name, type, ttl, class: 'IN', data: address });
  }
  return out;
}

function soaRecord(ns: DnsNamespace): Answer {
  return {
    name: normalizeName(ns.name),
    type: 'SOA',
    // The namespace's SOA TTL is the record's TTL; negative answers are cached min(TTL, minimum) (RFC 2308).
    ttl: ns.soaTtl ?? DEFAULT_SOA_TTL,
    class: 'IN',
    data: { mname: PRIVATE_ZONE_NAME_SERVERS[0] ?? '', rname: SOA_RNAME, ...SOA_TIMERS },
  };
}

function nsRecords(ns: DnsNamespace): Answer[] {
  return PRIVATE_ZONE_NAME_SERVERS.map((server) => ({
    name: normalizeName(ns.name),
    type: 'NS' as const,
    ttl: NS_TTL,
    class: 'IN' as const,
    data: server,
  }));
}

/** Every owner name of the zone with a function answering one type at it (undefined: no such record). */
type Owner = (type: string) => { answers: Answer[]; additionals: Answer[] } | undefined;

function ownersOf(ns: DnsNamespace, random: () => number): Map<string, Owner> {
  const owners = new Map<string, Owner>();
  const zone = normalizeName(ns.name);
  owners.set(zone, (type) => {
    if (type === 'SOA') return { answers: [soaRecord(ns)], additionals: [] };
    if (type === 'NS') return { answers: nsRecords(ns), additionals: [] };
    return undefined;
  });
  for (const service of ns.services) {
    if (!service.dnsConfig) continue;
    const records = serviceRecords(service);
    if (records.size === 0) continue;
    const name = normalizeName(`${service.name}.${zone}`);
    owners.set(name, (type) => {
      // A CNAME owner has no other record: any type is answered with the CNAME.
      const cname = records.get('CNAME');
      const record = cname ?? records.get(type);
      if (!record) return undefined;
      const chosen = pick(service, record.instances, random);
      if (cname) {
        return {
          answers: chosen.map((i) => ({
            name,
            type: 'CNAME' as const,
            ttl: cname.ttl,
            class: 'IN' as const,
            data: normalizeName(i.attributes.AWS_INSTANCE_CNAME ?? ''),
          })),
          additionals: [],
        };
      }
      if (type === 'SRV') {
        const answers: Answer[] = [];
        const additionals: Answer[] = [];
        for (const instance of chosen) {
          const target = srvTarget(instance, service, ns);
          answers.push({
            name,
            type: 'SRV',
            ttl: record.ttl,
            class: 'IN',
            data: {
              priority: SRV_PRIORITY,
              weight: SRV_WEIGHT,
              port: Number(instance.attributes.AWS_INSTANCE_PORT),
              target,
            },
          });
          additionals.push(...targetAddresses(target, instance, record.ttl, ['A', 'AAAA']));
        }
        return { answers, additionals };
      }
      const attribute = ADDRESS_ATTRIBUTE[type as AddressType];
      return {
        answers: chosen.map((i) => ({
          name,
          type: type as AddressType,
          ttl: record.ttl,
          class: 'IN' as const,
          data: i.attributes[attribute] ?? '',
        })),
        additionals: [],
      };
    });
    // SRV target names: Cloud Map creates an A and/or AAAA record for each instance with an address.
    const srv = records.get('SRV');
    if (!srv) continue;
    for (const instance of srv.instances) {
      const target = srvTarget(instance, service, ns);
      owners.set(target, (type) => {
        if (type !== 'A' && type !== 'AAAA') return undefined;
        const answers = targetAddresses(target, instance, srv.ttl, [type]);
        return answers.length > 0 ? { answers, additionals: [] } : undefined;
      });
    }
  }
  return owners;
}

const ANY_TYPES = ['SOA', 'NS', 'A', 'AAAA', 'SRV', 'CNAME'];

/**
 * The answer to one question (name, type, class IN) from the namespaces as they are now: REFUSED outside every
 * private DNS namespace (public namespaces are answered by public Route 53, HTTP namespaces have no zone),
 * NXDOMAIN for a name the zone lacks, NODATA (NOERROR, no answer, SOA in authority) for a name with other types.
 */
export function answerQuestion(
  question: { name: string; type: string },
  namespaces: readonly DnsNamespace[],
  random: () => number = Math.random,
): DnsAnswer {
  const name = normalizeName(question.name);
  const ns = zoneOf(name, namespaces);
  if (!ns) return { rcode: 'REFUSED', answers: [], authorities: [], additionals: [] };
  const owners = ownersOf(ns, random);
  const owner = owners.get(name);
  if (owner) {
    const types = question.type === 'ANY' ? ANY_TYPES : [question.type];
    const answers: Answer[] = [];
    const additionals: Answer[] = [];
    for (const type of types) {
      const found = owner(type);
      if (!found) continue;
      answers.push(...found.answers);
      additionals.push(...found.additionals);
    }
    if (answers.length > 0) return { rcode: 'NOERROR', answers, authorities: [], additionals };
    return { rcode: 'NOERROR', answers: [], authorities: [soaRecord(ns)], additionals: [] };
  }
  // A name with names below it exists (an empty non-terminal, RFC 8020): NODATA, not NXDOMAIN.
  const isParent = [...owners.keys()].some((owned) => owned.endsWith(`.${name}`));
  return { rcode: isParent ? 'NOERROR' : 'NXDOMAIN', answers: [], authorities: [soaRecord(ns)], additionals: [] };
}

/** The transport a query came over: UDP answers are size-limited (RFC 1035 4.2.1, RFC 6891 6.2.3). */
export type Transport = 'udp' | 'tcp';

/**
 * The wire response to a wire query (one question, opcode QUERY, class IN), with the AA flag, the query's id,
 * question and RD flag, and an OPT record when the query had one. Over UDP a response larger than 512 bytes
 * (or the client's EDNS size) first loses its additional section (RFC 2181 9: no TC for that) and, if the
 * answer still does not fit, is sent with TC and no records, so the client retries over TCP.
 * Returns undefined for a message too broken to answer (shorter than a header).
 */
export function respond(
  query: Buffer,
  namespaces: readonly DnsNamespace[],
  transport: Transport,
  random: () => number = Math.random,
): Buffer | undefined {
  let packet: DecodedPacket;
  try {
    packet = decode(query);
  } catch {
    return query.length >= 12 ? formatError(query) : undefined;
  }
  if (packet.type !== 'query') return undefined;
  const opt = packet.additionals?.find((record): record is OptAnswer => record.type === 'OPT');
  const base: Packet = {
    type: 'response',
    id: packet.id ?? 0,
    questions: packet.questions ?? [],
    answers: [],
    authorities: [],
    additionals: opt ? [ednsRecord()] : [],
  };
  const rd = (packet.flags ?? 0) & RECURSION_DESIRED;
  const opcode = ((packet.flags ?? 0) >> 11) & 0xf;
  const question = packet.questions?.[0];
  let answer: DnsAnswer;
  if (opcode !== 0) answer = empty('NOTIMP');
  else if (!question || packet.questions?.length !== 1) answer = empty('FORMERR');
  else if ((question.class ?? 'IN') !== 'IN') answer = empty('REFUSED');
  else answer = answerQuestion(question, namespaces, random);
  // AA only where this server is the authority: inside a zone.
  const aa =
    answer.rcode === 'REFUSED' || answer.rcode === 'FORMERR' || answer.rcode === 'NOTIMP' ? 0 : AUTHORITATIVE_ANSWER;
  const flags = aa | rd | RCODES[answer.rcode];
  const full: Packet = {
    ...base,
    flags,
    answers: answer.answers,
    authorities: answer.authorities,
    additionals: [...answer.additionals, ...(base.additionals ?? [])],
  };
  const encoded = encode(full);
  if (transport === 'tcp') return encoded;
  const limit = opt ? Math.min(Math.max(opt.udpPayloadSize, UDP_MAX_PLAIN), UDP_MAX_EDNS) : UDP_MAX_PLAIN;
  if (encoded.length <= limit) return encoded;
  const withoutAdditional = encode({ ...full, additionals: base.additionals });
  if (withoutAdditional.length <= limit) return withoutAdditional;
  return encode({ ...base, flags: flags | TRUNCATED_RESPONSE });
}

function empty(rcode: Rcode): DnsAnswer {
  return { rcode, answers: [], authorities: [], additionals: [] };
}

function ednsRecord(): OptAnswer {
  return {
    type: 'OPT',
    name: '.',
    udpPayloadSize: EDNS_PAYLOAD,
    extendedRcode: 0,
    ednsVersion: 0,
    flags: 0,
    flag_do: false,
    options: [],
  };
}

/** FORMERR for a message whose header is readable but the rest is not: the header alone, id kept. */
function formatError(query: Buffer): Buffer {
  const out = Buffer.alloc(12);
  query.copy(out, 0, 0, 2);
  const rd = query.readUInt16BE(2) & RECURSION_DESIRED;
  out.writeUInt16BE(0x8000 | rd | RCODES.FORMERR, 2);
  return out;
}
