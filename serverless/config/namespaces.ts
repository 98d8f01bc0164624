import { NAMESPACE_ARN, NAMESPACE_ID } from '../../lib/cloud-map/namespaces';
import { arnPrefix, type CfnString, sub } from './cfn';
import type { DeploySettings } from './params';

/** True when a namespace is given by reference (id or ARN, as lib/cloud-map/namespaces.ts reads them) rather than by name. */
export const isNamespaceRef = (value: string): boolean => NAMESPACE_ID.test(value) || NAMESPACE_ARN.test(value);

/** The id of a namespace given by id or ARN (two spellings of one namespace compare equal). */
export const namespaceIdOf = (ref: string): string => ref.slice(ref.lastIndexOf('/') + 1);

/** The ARN of a namespace given by id (in this account and region) or by ARN (as given). */
export const namespaceRefArn = (ref: string): CfnString =>
  NAMESPACE_ARN.test(ref) ? ref : sub(`${arnPrefix('servicediscovery')}:namespace/${ref}`);

/** Two namespace names that Cloud Map takes for one (case-insensitive, a final dot or not). */
export const sameNamespaceName = (a: string, b: string): boolean =>
  a.toLowerCase().replace(/\.$/, '') === b.toLowerCase().replace(/\.$/, '');

/** Names once each, compared as Cloud Map compares them (case-insensitively); the first spelling is kept. */
export function uniqueNames(names: string[]): string[] {
  const seen = new Set<string>();
  return names.filter((name) => {
    const key = name.toLowerCase();
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

/** What the functions get as NAMESPACE: the created namespace's id, or the parameter as given. */
export function namespaceRef(s: DeploySettings): CfnString {
  return s.createNamespace ? { Ref: 'CloudMapNamespace' } : s.namespace;
}

/** The namespace's ARN when the stack knows its id; otherwise every namespace of the account and region. */
function namespaceArn(s: DeploySettings): CfnString {
  if (s.createNamespace) return { 'Fn::GetAtt': ['CloudMapNamespace', 'Arn'] };
  return s.namespaceIsId ? namespaceRefArn(s.namespace) : sub(`${arnPrefix('servicediscovery')}:namespace/*`);
}

/** The namespace's name when the stack knows it (for conditions on record names). */
function namespaceName(s: DeploySettings): string | undefined {
  return s.namespaceIsId ? undefined : s.namespace.toLowerCase().replace(/\.$/, '');
}

/** A namespace the registrar writes to, as IAM can name it. */
export interface WrittenNamespace {
  byName: boolean;
  /** Undefined when given by name: IAM knows namespaces by id only. */
  arn: CfnString | undefined;
  /** Undefined when given by id. */
  name: string | undefined;
}

/**
 * Every namespace the registrar writes to: the main one and those of the cluster mapping, each with its ARN
 * (undefined when given by name: IAM knows namespaces by id only) and its name (undefined when given by id).
 */
export function writtenNamespaces(s: DeploySettings): WrittenNamespace[] {
  const all: WrittenNamespace[] = [
    {
      byName: !s.createNamespace && !s.namespaceIsId,
      arn: s.createNamespace || s.namespaceIsId ? namespaceArn(s) : undefined,
      name: namespaceName(s),
    },
    ...s.mappedNamespaces.map((m) => ({
      byName: !m.namespaceIsId,
      arn: m.namespaceIsId ? namespaceRefArn(m.namespace) : undefined,
      name: m.namespaceIsId ? undefined : m.namespace.toLowerCase().replace(/\.$/, ''),
    })),
  ];
  // Several clusters may share a namespace: each namespace once.
  const key = (n: WrittenNamespace) => JSON.stringify(n.arn ?? n.name);
  return all.filter((n, index) => all.findIndex((other) => key(other) === key(n)) === index);
}

/** A namespace given by ARN: the partition, region and account its ARN names (maybe another account's). */
export interface NamespaceByArn {
  arn: string;
  partition: string;
  region: string;
  account: string;
}

/**
 * The written namespaces given by ARN (the main one unless the stack creates it, and the mapping's), each once.
 * Any of them may belong to another account and be shared with this one through AWS RAM: the stack cannot tell at
 * package time, so each gets the statements a shared namespace needs (redundant for an own namespace).
 */
export function namespacesByArn(s: DeploySettings): NamespaceByArn[] {
  const refs = [...(s.createNamespace ? [] : [s.namespace]), ...s.mappedNamespaces.map((m) => m.namespace)];
  const arns = [...new Set(refs.filter((ref) => NAMESPACE_ARN.test(ref)))];
  return arns.map((arn) => {
    const [, partition = 'aws', , region = '', account = ''] = arn.split(':');
    return { arn, partition, region, account };
  });
}

/**
 * The services a namespace given by ARN holds, as IAM names them: a service belongs to its namespace's owner
 * (ResourceOwner), so its ARN carries the owner's account, never a wildcard one. IAM has no namespace key for the
 * service actions (Service Authorization Reference, Cloud Map): the owner's account and region is the narrowest.
 */
export function serviceArnsOfNamespacesByArn(namespaces: NamespaceByArn[]): string[] {
  return [...new Set(namespaces.map((n) => `arn:${n.partition}:servicediscovery:${n.region}:${n.account}:service/*`))];
}
