import {
  type Answer,
  AUTHORITATIVE_ANSWER,
  type DecodedPacket,
  decode,
  encode,
  type Packet,
  RECURSION_DESIRED,
} from 'dns-packet';
import {
  answerQuestion,
  type DnsInstance,
  type DnsNamespace,
  type DnsService,
  respond,
} from '../../../local/emulator/dns/answers';
import { seededRandom } from '../../../local/emulator/random';

/*
 * What Route 53 answers for a Cloud Map private DNS namespace, as documented:
 * - Routing policies, the eight-record cap and "if no instances are healthy, Route 53 responds ... as if all the
 *   instances were healthy" (WEIGHTED): https://docs.aws.amazon.com/cloud-map/latest/dg/services-route53.html and
 *   https://docs.aws.amazon.com/cloud-map/latest/api/API_DnsConfig.html
 * - Multivalue answers: "up to eight healthy records", different combinations when more are healthy, and "when all
 *   records are unhealthy, Route 53 responds to DNS queries with up to eight unhealthy records":
 *   https://docs.aws.amazon.com/Route53/latest/DeveloperGuide/routing-policy-multivalue.html and
 *   https://docs.aws.amazon.com/Route53/latest/APIReference/API_ResourceRecordSet.html (MultiValueAnswer)
 * - Record types and values (A from AWS_INSTANCE_IPV4, AAAA from AWS_INSTANCE_IPV6; SRV "priority weight port
 *   service-hostname", priority and weight "both set to 1", port from AWS_INSTANCE_PORT, service-hostname
 *   instance-id.service-name.namespace-name, with A/AAAA records of the same name; CNAME only WEIGHTED):
 *   https://docs.aws.amazon.com/cloud-map/latest/api/API_DnsRecord.html
 * - Health: without a health check, traffic goes to every instance; with a custom one, the status of the latest
 *   UpdateInstanceCustomHealthStatus decides: https://docs.aws.amazon.com/cloud-map/latest/dg/services-health-checks.html
 *   and https://docs.aws.amazon.com/cloud-map/latest/api/API_HealthCheckCustomConfig.html
 * - SOA and NS of the private hosted zone Cloud Map creates (NS TTL 172800: ns-1536.awsdns-00.co.uk,
 *   ns-0.awsdns-00.com, ns-1024.awsdns-00.org, ns-512.awsdns-00.net; SOA "ns-1536.awsdns-00.co.uk.
 *   awsdns-hostmaster.amazon.com. 1 7200 900 1209600 86400"), as the ECS service discovery tutorial lists them:
 *   https://docs.aws.amazon.com/AmazonECS/latest/developerguide/create-service-discovery.html; the SOA fields:
 *   https://docs.aws.amazon.com/Route53/latest/DeveloperGuide/SOA-NSrecords.html; the namespace's SOA TTL
 *   ("for purposes of negative caching"): https://docs.aws.amazon.com/cloud-map/latest/api/API_SOA.html
 * - Public namespaces are answered by public Route 53 and HTTP namespaces have no hosted zone
 *   (https://docs.aws.amazon.com/cloud-map/latest/dg/creating-namespaces.html): both are REFUSED here.
 * - Wire rules: 512-byte UDP limit and TC (RFC 1035 4.2.1, RFC 2181 9), EDNS size (RFC 6891), empty non-terminals
 *   (RFC 8020), negative caching from the SOA (RFC 2308).
 */

function instance(id: string, attributes: Record<string, string>, health: DnsInstance['health'] = 'HEALTHY') {
  return { id, attributes, health };
}

function service(
  name: string,
  records: { Type: 'A' | 'AAAA' | 'SRV' | 'CNAME'; TTL: number }[],
  instances: DnsInstance[],
  options: { routing?: 'MULTIVALUE' | 'WEIGHTED'; healthCheck?: boolean } = {},
): DnsService {
  return {
    name,
    dnsConfig: { RoutingPolicy: options.routing ?? 'MULTIVALUE', DnsRecords: records },
    hasHealthCheck: options.healthCheck ?? true,
    instances,
  };
}

function zone(services: DnsService[], extra: Partial<DnsNamespace> = {}): DnsNamespace {
  return { name: 'kudos.local', type: 'DNS_PRIVATE', soaTtl: 15, services, ...extra };
}

const ipv4 = (n: number) => ({ AWS_INSTANCE_IPV4: `127.10.0.${n}` });
const ttl = (answer: Answer) => ('ttl' in answer ? answer.ttl : undefined);
const data = (answers: Answer[]) => answers.map((answer) => ('data' in answer ? answer.data : undefined));

function query(name: string, type: string, options: { edns?: number; id?: number; flags?: number } = {}): Buffer {
  const packet: Packet = {
    type: 'query',
    id: options.id ?? 4242,
    flags: options.flags ?? RECURSION_DESIRED,
    questions: [{ name, type: type as 'A', class: 'IN' }],
    additionals: options.edns
      ? [
          {
            type: 'OPT',
            name: '.',
            udpPayloadSize: options.edns,
            extendedRcode: 0,
            ednsVersion: 0,
            flags: 0,
            flag_do: false,
            options: [],
          },
        ]
      : [],
  };
  return encode(packet);
}

function ask(
  namespaces: DnsNamespace[],
  name: string,
  type: string,
  options: { transport?: 'udp' | 'tcp'; edns?: number } = {},
): DecodedPacket & { rcode?: string } {
  const response = respond(query(name, type, options), namespaces, options.transport ?? 'udp', seededRandom(7));
  if (!response) throw new Error('no response');
  return decode(response) as DecodedPacket & { rcode?: string };
}

describe('A, AAAA and SRV records as the service DnsConfig says', () => {
  it('answers A with every instance address and the DnsRecord TTL, authoritatively', () => {
    const ns = zone([service('api', [{ Type: 'A', TTL: 10 }], [instance('t1', ipv4(1)), instance('t2', ipv4(2))])]);

    const response = ask([ns], 'api.kudos.local', 'A');

    expect(response.rcode).toBe('NOERROR');
    expect(response.flag_aa).toBe(true);
    expect(response.flag_rd).toBe(true);
    expect(response.id).toBe(4242);
    expect(data(response.answers ?? []).sort()).toEqual(['127.10.0.1', '127.10.0.2']);
    expect((response.answers ?? []).every((a) => a.name === 'api.kudos.local' && a.type === 'A' && a.ttl === 10)).toBe(
      true,
    );
  });

  it('answers AAAA from AWS_INSTANCE_IPV6', () => {
    const ns = zone([
      service('v6', [{ Type: 'AAAA', TTL: 20 }], [instance('t1', { AWS_INSTANCE_IPV6: '2001:db8::1' })]),
    ]);

    const answer = answerQuestion({ name: 'v6.kudos.local', type: 'AAAA' }, [ns]);

    expect(answer.answers).toEqual([
      { name: 'v6.kudos.local', type: 'AAAA', ttl: 20, class: 'IN', data: '2001:db8::1' },
    ]);
  });

  it('answers A and AAAA separately for an A+AAAA service, each with its own TTL; NODATA for an AAAA it lacks', () => {
    const dual = instance('t1', { AWS_INSTANCE_IPV4: '127.10.0.1', AWS_INSTANCE_IPV6: '2001:db8::1' });
    const ns = zone([
      service(
        'dual',
        [
          { Type: 'A', TTL: 10 },
          { Type: 'AAAA', TTL: 30 },
        ],
        [dual],
      ),
      service(
        'v4only',
        [
          { Type: 'A', TTL: 10 },
          { Type: 'AAAA', TTL: 30 },
        ],
        [instance('t2', ipv4(2))],
      ),
    ]);

    const a = answerQuestion({ name: 'dual.kudos.local', type: 'A' }, [ns]);
    const aaaa = answerQuestion({ name: 'dual.kudos.local', type: 'AAAA' }, [ns]);
    const missing = answerQuestion({ name: 'v4only.kudos.local', type: 'AAAA' }, [ns]);

    expect(a.answers.map((r) => [r.type, ttl(r), data([r])[0]])).toEqual([['A', 10, '127.10.0.1']]);
    expect(aaaa.answers.map((r) => [r.type, ttl(r), data([r])[0]])).toEqual([['AAAA', 30, '2001:db8::1']]);
    expect(missing).toMatchObject({ rcode: 'NOERROR', answers: [] });
    expect(missing.authorities.map((r) => r.type)).toEqual(['SOA']);
  });

  it('answers SRV as "1 1 port instance-id.service.namespace", with the targets A/AAAA in the additional section', () => {
    const ns = zone([
      service(
        '_api._tcp',
        [{ Type: 'SRV', TTL: 60 }],
        [
          instance('task1', { AWS_INSTANCE_IPV4: '127.10.0.1', AWS_INSTANCE_PORT: '8080' }),
          instance('task2', {
            AWS_INSTANCE_IPV4: '127.10.0.2',
            AWS_INSTANCE_IPV6: '2001:db8::2',
            AWS_INSTANCE_PORT: '9090',
          }),
        ],
      ),
    ]);

    const response = ask([ns], '_api._tcp.kudos.local', 'SRV');

    expect(response.rcode).toBe('NOERROR');
    expect(data(response.answers ?? []).sort((x, y) => JSON.stringify(x).localeCompare(JSON.stringify(y)))).toEqual([
      { priority: 1, weight: 1, port: 8080, target: 'task1._api._tcp.kudos.local' },
      { priority: 1, weight: 1, port: 9090, target: 'task2._api._tcp.kudos.local' },
    ]);
    const additional = (response.additionals ?? []).map((r) => `${r.name} ${r.type} ${data([r])[0]}`).sort();
    expect(additional).toEqual([
      'task1._api._tcp.kudos.local A 127.10.0.1',
      'task2._api._tcp.kudos.local A 127.10.0.2',
      'task2._api._tcp.kudos.local AAAA 2001:db8::2',
    ]);
  });

  it('answers A at an SRV target name with that instance address, and NODATA for an address it lacks', () => {
    const ns = zone([
      service(
        'web',
        [{ Type: 'SRV', TTL: 60 }],
        [instance('task1', { AWS_INSTANCE_IPV4: '127.10.0.1', AWS_INSTANCE_PORT: '80' })],
      ),
    ]);

    const a = answerQuestion({ name: 'task1.web.kudos.local', type: 'A' }, [ns]);
    const aaaa = answerQuestion({ name: 'task1.web.kudos.local', type: 'AAAA' }, [ns]);

    expect(a.answers).toEqual([{ name: 'task1.web.kudos.local', type: 'A', ttl: 60, class: 'IN', data: '127.10.0.1' }]);
    expect(aaaa).toMatchObject({ rcode: 'NOERROR', answers: [] });
  });

  it('answers a CNAME service (WEIGHTED) with one AWS_INSTANCE_CNAME, whatever the type asked', () => {
    const ns = zone([
      service('legacy', [{ Type: 'CNAME', TTL: 30 }], [instance('t1', { AWS_INSTANCE_CNAME: 'db.example.com' })], {
        routing: 'WEIGHTED',
        healthCheck: false,
      }),
    ]);

    const answer = answerQuestion({ name: 'legacy.kudos.local', type: 'A' }, [ns]);

    expect(answer.answers).toEqual([
      { name: 'legacy.kudos.local', type: 'CNAME', ttl: 30, class: 'IN', data: 'db.example.com' },
    ]);
  });
});

describe('multivalue answers and instance health', () => {
  const many = (count: number, health: DnsInstance['health'] = 'HEALTHY') =>
    Array.from({ length: count }, (_, i) => instance(`t${i + 1}`, ipv4(i + 1), health));

  it('returns at most eight records, different combinations across queries, over all healthy instances', () => {
    const ns = zone([service('api', [{ Type: 'A', TTL: 10 }], many(12))]);
    const random = seededRandom(1);
    const seen = new Set<string>();

    for (let i = 0; i < 50; i++) {
      const answer = answerQuestion({ name: 'api.kudos.local', type: 'A' }, [ns], random);
      expect(answer.answers).toHaveLength(8);
      expect(new Set(data(answer.answers)).size).toBe(8);
      for (const address of data(answer.answers)) seen.add(String(address));
    }

    expect(seen.size).toBe(12);
  });

  it('leaves out UNHEALTHY instances (custom health check)', () => {
    const instances = [instance('t1', ipv4(1)), instance('t2', ipv4(2), 'UNHEALTHY'), instance('t3', ipv4(3))];
    const ns = zone([service('api', [{ Type: 'A', TTL: 10 }], instances)]);

    const answer = answerQuestion({ name: 'api.kudos.local', type: 'A' }, [ns]);

    expect(data(answer.answers).sort()).toEqual(['127.10.0.1', '127.10.0.3']);
  });

  it('returns up to eight unhealthy records when no instance is healthy', () => {
    const ns = zone([service('api', [{ Type: 'A', TTL: 10 }], many(10, 'UNHEALTHY'))]);

    const answer = answerQuestion({ name: 'api.kudos.local', type: 'A' }, [ns]);

    expect(answer.rcode).toBe('NOERROR');
    expect(answer.answers).toHaveLength(8);
  });

  it('counts every instance of a service without a health check as healthy (health UNKNOWN)', () => {
    const ns = zone([service('api', [{ Type: 'A', TTL: 10 }], many(3, 'UNKNOWN'), { healthCheck: false })]);

    const answer = answerQuestion({ name: 'api.kudos.local', type: 'A' }, [ns]);

    expect(answer.answers).toHaveLength(3);
  });

  it('SRV follows health too: the unhealthy target is neither answered nor in the additional section', () => {
    const ns = zone([
      service(
        'web',
        [{ Type: 'SRV', TTL: 60 }],
        [
          instance('up', { AWS_INSTANCE_IPV4: '127.10.0.1', AWS_INSTANCE_PORT: '80' }),
          instance('down', { AWS_INSTANCE_IPV4: '127.10.0.2', AWS_INSTANCE_PORT: '80' }, 'UNHEALTHY'),
        ],
      ),
    ]);

    const answer = answerQuestion({ name: 'web.kudos.local', type: 'SRV' }, [ns]);

    expect(answer.answers.map((r) => (r.type === 'SRV' ? r.data.target : ''))).toEqual(['up.web.kudos.local']);
    expect(answer.additionals.map((r) => r.name)).toEqual(['up.web.kudos.local']);
  });
});

describe('WEIGHTED routing', () => {
  it('answers one healthy instance chosen at random', () => {
    const instances = [instance('t1', ipv4(1)), instance('t2', ipv4(2)), instance('t3', ipv4(3), 'UNHEALTHY')];
    const ns = zone([service('api', [{ Type: 'A', TTL: 10 }], instances, { routing: 'WEIGHTED' })]);
    const random = seededRandom(3);
    const seen = new Set<string>();

    for (let i = 0; i < 40; i++) {
      const answer = answerQuestion({ name: 'api.kudos.local', type: 'A' }, [ns], random);
      expect(answer.answers).toHaveLength(1);
      seen.add(String(data(answer.answers)[0]));
    }

    expect([...seen].sort()).toEqual(['127.10.0.1', '127.10.0.2']);
  });

  it('answers as if all were healthy when none is', () => {
    const instances = [instance('t1', ipv4(1), 'UNHEALTHY'), instance('t2', ipv4(2), 'UNHEALTHY')];
    const ns = zone([service('api', [{ Type: 'A', TTL: 10 }], instances, { routing: 'WEIGHTED' })]);

    const answer = answerQuestion({ name: 'api.kudos.local', type: 'A' }, [ns]);

    expect(answer.answers).toHaveLength(1);
  });
});

describe('names that have no records', () => {
  const ns = zone([
    service('api', [{ Type: 'A', TTL: 10 }], [instance('t1', ipv4(1))]),
    service('empty', [{ Type: 'A', TTL: 10 }], []),
    service('_grpc._tcp', [{ Type: 'SRV', TTL: 10 }], [instance('t9', { ...ipv4(9), AWS_INSTANCE_PORT: '50051' })]),
  ]);

  it('answers NXDOMAIN with the zone SOA (TTL = the namespace SOA TTL) for an unknown name in the zone', () => {
    const response = ask([ns], 'nope.kudos.local', 'A');

    expect(response.rcode).toBe('NXDOMAIN');
    expect(response.flag_aa).toBe(true);
    expect(response.answers).toEqual([]);
    expect(response.authorities).toEqual([
      expect.objectContaining({
        name: 'kudos.local',
        type: 'SOA',
        ttl: 15,
        data: expect.objectContaining({ mname: 'ns-1536.awsdns-00.co.uk', rname: 'awsdns-hostmaster.amazon.com' }),
      }),
    ]);
  });

  it('answers NXDOMAIN for a service with no instance (Cloud Map creates records on registration)', () => {
    expect(answerQuestion({ name: 'empty.kudos.local', type: 'A' }, [ns]).rcode).toBe('NXDOMAIN');
  });

  it('answers NODATA (NOERROR, no answer, SOA in authority) for a name that has other types', () => {
    const response = ask([ns], 'api.kudos.local', 'TXT');

    expect(response.rcode).toBe('NOERROR');
    expect(response.answers).toEqual([]);
    expect((response.authorities ?? []).map((r) => r.type)).toEqual(['SOA']);
  });

  it('answers NODATA, not NXDOMAIN, for an empty non-terminal (_tcp above _grpc._tcp)', () => {
    const answer = answerQuestion({ name: '_tcp.kudos.local', type: 'A' }, [ns]);

    expect(answer).toMatchObject({ rcode: 'NOERROR', answers: [] });
  });
});

describe('the zone apex', () => {
  const ns = zone([], { soaTtl: 60 });

  it('answers SOA as Route 53 makes it for a private hosted zone, with the namespace SOA TTL', () => {
    const answer = answerQuestion({ name: 'kudos.local', type: 'SOA' }, [ns]);

    expect(answer.answers).toEqual([
      {
        name: 'kudos.local',
        type: 'SOA',
        ttl: 60,
        class: 'IN',
        data: {
          mname: 'ns-1536.awsdns-00.co.uk',
          rname: 'awsdns-hostmaster.amazon.com',
          serial: 1,
          refresh: 7200,
          retry: 900,
          expire: 1209600,
          minimum: 86400,
        },
      },
    ]);
  });

  it('answers NS with the four private-zone name servers, TTL 172800', () => {
    const response = ask([ns], 'kudos.local', 'NS');

    expect(response.flag_aa).toBe(true);
    expect((response.answers ?? []).map((r) => [ttl(r), data([r])[0]])).toEqual([
      [172800, 'ns-1536.awsdns-00.co.uk'],
      [172800, 'ns-0.awsdns-00.com'],
      [172800, 'ns-1024.awsdns-00.org'],
      [172800, 'ns-512.awsdns-00.net'],
    ]);
  });
});

describe('which zone a name belongs to', () => {
  const api = service('api', [{ Type: 'A', TTL: 10 }], [instance('t1', ipv4(1))]);

  it('refuses names outside every namespace, without the AA flag', () => {
    const response = ask([zone([api])], 'example.com', 'A');

    expect(response.rcode).toBe('REFUSED');
    expect(response.flag_aa).toBe(false);
  });

  it('refuses names of public DNS namespaces (public Route 53 answers those) and of HTTP namespaces', () => {
    const publicNs = zone([api], { name: 'kudos.example.com', type: 'DNS_PUBLIC' });
    const httpNs = zone([api], { name: 'kudos.http', type: 'HTTP' });

    expect(answerQuestion({ name: 'api.kudos.example.com', type: 'A' }, [publicNs]).rcode).toBe('REFUSED');
    expect(answerQuestion({ name: 'api.kudos.http', type: 'A' }, [httpNs]).rcode).toBe('REFUSED');
  });

  it('matches names case-insensitively and with or without the trailing dot', () => {
    const answer = answerQuestion({ name: 'API.Kudos.LOCAL.', type: 'A' }, [zone([api])]);

    expect(data(answer.answers)).toEqual(['127.10.0.1']);
  });

  it('answers from the longest matching namespace', () => {
    const inner = zone([service('api', [{ Type: 'A', TTL: 10 }], [instance('t2', ipv4(2))])], {
      name: 'eu.kudos.local',
    });

    const answer = answerQuestion({ name: 'api.eu.kudos.local', type: 'A' }, [zone([api]), inner]);

    expect(data(answer.answers)).toEqual(['127.10.0.2']);
  });
});

describe('the wire: UDP size, EDNS, errors', () => {
  // Eight SRV records with 60-character targets: about 800 bytes of answers (dns-packet does not compress names).
  const longIds = Array.from({ length: 8 }, (_, i) =>
    instance(`${String(i).padStart(2, '0')}${'a'.repeat(58)}`, { ...ipv4(i + 1), AWS_INSTANCE_PORT: '8080' }),
  );
  const ns = zone([service('_api._tcp', [{ Type: 'SRV', TTL: 10 }], longIds)]);

  it('sets TC and sends no records when the UDP answer exceeds 512 bytes without EDNS', () => {
    const response = ask([ns], '_api._tcp.kudos.local', 'SRV');

    expect(response.flag_tc).toBe(true);
    expect(response.answers).toEqual([]);
    expect(response.questions).toEqual([expect.objectContaining({ name: '_api._tcp.kudos.local', type: 'SRV' })]);
  });

  it('sends the whole answer over TCP', () => {
    const response = ask([ns], '_api._tcp.kudos.local', 'SRV', { transport: 'tcp' });

    expect(response.flag_tc).toBe(false);
    expect(response.answers).toHaveLength(8);
    expect(response.additionals).toHaveLength(8);
  });

  it('sends the whole answer over UDP when the EDNS size allows, with an OPT record back', () => {
    const response = ask([ns], '_api._tcp.kudos.local', 'SRV', { edns: 4096 });

    expect(response.flag_tc).toBe(false);
    expect(response.answers).toHaveLength(8);
    expect((response.additionals ?? []).filter((r) => r.type === 'OPT')).toHaveLength(1);
  });

  it('drops the additional section, without TC, when only the answers fit', () => {
    const three = zone([service('_api._tcp', [{ Type: 'SRV', TTL: 10 }], longIds.slice(0, 3))]);

    const response = ask([three], '_api._tcp.kudos.local', 'SRV');

    expect(response.flag_tc).toBe(false);
    expect(response.answers).toHaveLength(3);
    expect(response.additionals).toEqual([]);
  });

  it('answers FORMERR to an undecodable message, keeping its id', () => {
    const garbage = Buffer.from([0x12, 0x34, 0x01, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0xff]);

    const response = respond(garbage, [ns], 'udp');

    expect(response && decode(response)).toMatchObject({ id: 0x1234, rcode: 'FORMERR' });
  });

  it('answers NOTIMP to an opcode other than QUERY', () => {
    const status = query('kudos.local', 'SOA', { flags: 2 << 11 });

    const response = respond(status, [ns], 'udp');

    expect(response && decode(response)).toMatchObject({ rcode: 'NOTIMP' });
  });

  it('keeps the AA flag value of AUTHORITATIVE_ANSWER in answers from a zone', () => {
    const response = respond(query('kudos.local', 'SOA'), [ns], 'udp');

    expect(response && response.readUInt16BE(2) & AUTHORITATIVE_ANSWER).toBe(AUTHORITATIVE_ANSWER);
  });
});
