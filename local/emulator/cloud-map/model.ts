import type { DnsConfig } from './validation';

/** Cloud Map's state, shaped close to the API so answers are mostly projections. */

export type NamespaceType = 'HTTP' | 'DNS_PRIVATE' | 'DNS_PUBLIC';
export type HealthStatus = 'HEALTHY' | 'UNHEALTHY' | 'UNKNOWN';

export interface Tag {
  Key: string;
  Value: string;
}

export interface Namespace {
  Id: string;
  Arn: string;
  /** ResourceOwner: the account that created the namespace (another one for a namespace shared through AWS RAM). */
  OwnerAccount: string;
  Name: string;
  Type: NamespaceType;
  Description?: string;
  CreatorRequestId?: string;
  CreateDate: Date;
  HttpName: string;
  HostedZoneId?: string;
  SoaTtl?: number;
  Vpc?: string;
  OperationId: string;
}

export interface Instance {
  Id: string;
  /** The account that registered the instance (a consumer's, in a shared namespace). */
  CreatedByAccount: string;
  CreatorRequestId?: string;
  Attributes: Record<string, string>;
  health: HealthStatus;
}

export interface Service {
  Id: string;
  Arn: string;
  Name: string;
  NamespaceId: string;
  /** ResourceOwner: the namespace's owner, whoever created the service (its ARN carries this account). */
  OwnerAccount: string;
  /** The account that created the service (a consumer's, in a shared namespace). */
  CreatedByAccount: string;
  Description?: string;
  CreatorRequestId?: string;
  CreateDate: Date;
  Type: 'HTTP' | 'DNS_HTTP' | 'DNS';
  DnsConfig?: DnsConfig;
  HealthCheckConfig?: { Type: string; ResourcePath?: string; FailureThreshold?: number };
  HealthCheckCustomConfig?: { FailureThreshold?: number };
  instances: Map<string, Instance>;
  /** Instance id -> id of the register/deregister operation still in flight for it. */
  inFlight: Map<string, string>;
  /** CreatorRequestId -> the operation of the RegisterInstance that first used it. */
  requests: Map<string, string>;
  /** DiscoverInstances' InstancesRevision: moves on every register and deregister, never on health. */
  revision: number;
}

export type OperationType =
  | 'CREATE_NAMESPACE'
  | 'DELETE_NAMESPACE'
  | 'UPDATE_NAMESPACE'
  | 'UPDATE_SERVICE'
  | 'REGISTER_INSTANCE'
  | 'DEREGISTER_INSTANCE';

export interface Operation {
  Id: string;
  /** The account that owns the namespace the operation is about (GetOperation's OwnerAccount). */
  OwnerAccount: string;
  Type: OperationType;
  Status: 'SUBMITTED' | 'PENDING' | 'SUCCESS' | 'FAIL';
  ErrorMessage?: string;
  ErrorCode?: string;
  CreateDate: Date;
  UpdateDate: Date;
  Targets: Partial<Record<'NAMESPACE' | 'SERVICE' | 'INSTANCE', string>>;
  CreatorRequestId?: string;
}
