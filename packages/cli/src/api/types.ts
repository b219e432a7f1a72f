/** Wire shapes of the OpenWhisk REST API as the CLI reads them (OPENWHISK-COMPAT.md §2). */
export interface KeyValue {
  key: string;
  value: unknown;
  init?: boolean;
}

export interface Limits {
  timeout?: number;
  memory?: number;
  logs?: number;
  concurrency?: number;
}

export interface Exec {
  kind: string;
  code?: string;
  binary?: boolean;
  main?: string;
  image?: string;
  components?: string[];
}

export interface EntityBase {
  namespace: string;
  name: string;
  version: string;
  publish: boolean;
  annotations?: KeyValue[];
  updated?: number;
}

export interface Action extends EntityBase {
  exec: Exec;
  parameters?: KeyValue[];
  limits?: Limits;
}

export interface ActionPut {
  exec?: Exec;
  parameters?: KeyValue[];
  annotations?: KeyValue[];
  delAnnotations?: string[];
  limits?: Limits;
  version?: string;
  publish?: boolean;
}

export interface Binding {
  namespace: string;
  name: string;
}

export interface Package extends EntityBase {
  parameters?: KeyValue[];
  binding?: Binding | Record<string, never> | false;
  actions?: { name: string; version: string; annotations?: KeyValue[] }[];
  feeds?: { name: string; version: string; annotations?: KeyValue[] }[];
}

export interface PackagePut {
  binding?: Binding;
  parameters?: KeyValue[];
  annotations?: KeyValue[];
  publish?: boolean;
}

export interface PathName {
  path: string;
  name: string;
}

export interface Trigger extends EntityBase {
  parameters?: KeyValue[];
  limits?: Record<string, unknown>;
  rules?: Record<string, { action: PathName; status: string }>;
}

export interface TriggerPut {
  parameters?: KeyValue[];
  annotations?: KeyValue[];
  limits?: Record<string, unknown>;
  publish?: boolean;
}

export interface Rule extends EntityBase {
  status?: string;
  trigger: PathName;
  action: PathName;
}

export interface RulePut {
  name: string;
  status: string;
  trigger: string;
  action: string;
  annotations?: KeyValue[];
}

export interface ActivationResponse {
  result?: unknown;
  status: string;
  success: boolean;
  size?: number;
}

export interface Activation {
  namespace: string;
  name: string;
  version: string;
  subject?: string;
  activationId: string;
  start: number;
  end?: number;
  duration?: number;
  cause?: string;
  statusCode?: number;
  response?: ActivationResponse;
  logs?: string[];
  annotations?: KeyValue[];
  publish?: boolean;
}

export interface ApiInfo {
  description?: string;
  api_version?: string;
  api_version_path?: string;
  build?: string;
  buildno?: string;
}

export function annotationValue(list: readonly KeyValue[] | undefined, key: string): unknown {
  return list?.find((kv) => kv.key === key)?.value;
}

/** An operation's action in an API gateway swagger (OpenWhisk's `x-openwhisk`). */
export interface ApiXOpenWhisk {
  namespace: string;
  package?: string;
  action: string;
  url?: string;
}

export interface ApiSwagger {
  swagger?: string;
  basePath?: string;
  info?: { title?: string; version?: string };
  paths?: Record<string, Record<string, { operationId?: string; 'x-openwhisk'?: ApiXOpenWhisk } | unknown>>;
  [key: string]: unknown;
}

/** One API as the apimgmt actions answer it (`apis[].value`, or the createApi reply). */
export interface ApiValue {
  namespace: string;
  gwApiUrl: string;
  gwApiActivated: boolean;
  tenantId: string;
  apidoc: ApiSwagger;
}

export interface ApiList {
  apis: { id?: string; key?: string; value: ApiValue }[];
}

export interface ApiDocRequest {
  namespace: string;
  gatewayBasePath?: string;
  gatewayPath?: string;
  gatewayMethod?: string;
  id?: string;
  apiName?: string;
  pathParameters?: { name: string; in: 'path'; description: string; required: boolean; type: string }[];
  action?: { name: string; namespace: string; backendMethod: string; backendUrl: string; authkey: string; secureKey?: unknown };
  swagger?: string;
}

/** The query every apimgmt call carries: wsk's space id (the key's uuid) and API gateway token. */
export interface ApiMgmtQuery {
  spaceguid?: string;
  accesstoken?: string;
  [key: string]: string | number | boolean | undefined;
}

/** `GET /namespaces/{ns}/usage`: figures per action and in total (duration in ms). */
export interface UsageFigures {
  invocations: number;
  errors: number;
  duration: number;
  gbSeconds: number;
}
export interface Usage {
  namespace: string;
  since?: number;
  upto?: number;
  actions: (UsageFigures & { action: string })[];
  total: UsageFigures;
}

/** GET .../actions/{name}?usage=true (Whirl): memory peak and CPU over recent activations. */
export interface UsageDistribution {
  p50: number;
  p90: number;
  p99: number;
  max: number;
}
export interface ActionUsage {
  namespace: string;
  name: string;
  activations: number;
  measured: number;
  shared: number;
  memoryLimitMB: number;
  memoryPeakMB: UsageDistribution | null;
  cpuMs: UsageDistribution | null;
  recommendation: { memoryMB: number; reason: string } | null;
}
