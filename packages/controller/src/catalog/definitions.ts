/**
 * The system catalog's contents: `/whisk.system/utils` (small text utilities that run as ordinary
 * nodejs:20 actions) and `/whisk.system/alarms` (feed actions run inside the controller, see
 * system-actions.ts). Behaviour follows apache/openwhisk-catalog's utils; the code is Whirl's own.
 */
import type { KeyValue } from '@whirl/core';
import { INTERNAL_ANNOTATION } from './system-actions.js';

export interface CatalogAction {
  name: string;
  code: string;
  parameters?: KeyValue[];
  annotations: KeyValue[];
}

export interface CatalogPackage {
  name: string;
  parameters: KeyValue[];
  annotations: KeyValue[];
  actions: CatalogAction[];
}

const doc = (description: string, params: [string, string][] = [], sampleInput?: unknown, sampleOutput?: unknown): KeyValue[] => [
  { key: 'description', value: description },
  { key: 'parameters', value: params.map(([name, d]) => ({ name, required: false, description: d })) },
  ...(sampleInput !== undefined ? [{ key: 'sampleInput', value: sampleInput }] : []),
  ...(sampleOutput !== undefined ? [{ key: 'sampleOutput', value: sampleOutput }] : []),
];

const linesOf = `function linesOf(params) {
  return Array.isArray(params.lines) ? params.lines.map((l) => (typeof l === 'string' ? l : JSON.stringify(l))) : [];
}
`;

const utils: CatalogAction[] = [
  {
    name: 'echo',
    code: `/** Returns its input unchanged. */
function main(params) {
  return params;
}
`,
    annotations: doc('Returns the input', [['payload', 'Any JSON value']], { payload: 'hi' }, { payload: 'hi' }),
  },
  {
    name: 'cat',
    code: `${linesOf}
/** Joins lines into one payload string, like cat. */
function main(params) {
  const lines = linesOf(params);
  return { lines, payload: lines.join('\\n') };
}
`,
    annotations: doc('Concatenates input into a string', [['lines', 'An array of strings']], { lines: ['a', 'b'] }, { lines: ['a', 'b'], payload: 'a\nb' }),
  },
  {
    name: 'sort',
    code: `${linesOf}
/** Sorts lines, like sort. */
function main(params) {
  const lines = linesOf(params).slice().sort();
  return { length: lines.length, lines };
}
`,
    annotations: doc('Sorts an array', [['lines', 'An array of strings']], { lines: ['b', 'a'] }, { length: 2, lines: ['a', 'b'] }),
  },
  {
    name: 'head',
    code: `${linesOf}
/** The first num lines (default 1), like head. */
function main(params) {
  const n = Number.isInteger(Number(params.num)) && params.num !== undefined ? Number(params.num) : 1;
  return { lines: linesOf(params).slice(0, Math.max(0, n)) };
}
`,
    annotations: doc(
      'Extracts the prefix of an array',
      [
        ['lines', 'An array of strings'],
        ['num', 'How many lines to keep (default 1)'],
      ],
      { lines: ['a', 'b'], num: 1 },
      { lines: ['a'] },
    ),
  },
  {
    name: 'split',
    code: `/** Splits payload into lines at separator (default: line breaks). */
function main(params) {
  const payload = typeof params.payload === 'string' ? params.payload : params.payload === undefined ? '' : JSON.stringify(params.payload);
  const separator = typeof params.separator === 'string' && params.separator !== '' ? params.separator : /\\r?\\n/;
  return { lines: payload.split(separator), payload };
}
`,
    annotations: doc(
      'Splits a string into an array of strings',
      [
        ['payload', 'A string'],
        ['separator', 'The separator (default: line breaks)'],
      ],
      { payload: 'a,b', separator: ',' },
      { lines: ['a', 'b'], payload: 'a,b' },
    ),
  },
  {
    name: 'smash',
    code: `/** Nests all parameters under one field (fieldName, default "payload"). */
function main(params) {
  const field = typeof params.fieldName === 'string' && params.fieldName !== '' ? params.fieldName : 'payload';
  const rest = Object.assign({}, params);
  delete rest.fieldName;
  return { [field]: rest };
}
`,
    annotations: doc('Nests all properties under a single field', [['fieldName', 'Name of the field (default payload)']], { a: 1 }, { payload: { a: 1 } }),
  },
  {
    name: 'date',
    code: `/** The current date and time. */
function main() {
  return { date: new Date().toISOString() };
}
`,
    annotations: doc('Current date and time', [], {}, { date: '2016-03-22T20:32:56.012Z' }),
  },
  {
    name: 'namespace',
    code: `/** The namespace of the caller. */
function main() {
  return { namespace: process.env.__OW_NAMESPACE };
}
`,
    annotations: doc('Returns namespace for the authorization key used to invoke this action', [], {}, { namespace: 'guest' }),
  },
  {
    name: 'hosturl',
    code: `/** The API host this action runs under, optionally with a path appended. */
function main(params) {
  const host = (process.env.__OW_API_HOST || '').replace(/\\/+$/, '');
  const path = typeof params.path === 'string' ? params.path.replace(/^\\/+/, '') : '';
  return { url: path ? host + '/' + path : host };
}
`,
    annotations: doc('Returns the URL to access the API host', [['path', 'A path to append']], {}, { url: 'http://localhost:3233' }),
  },
];

/** Never reached in practice: the controller runs these actions itself. Kept honest if it is ever dispatched. */
const feedStub = `function main() {
  return { error: 'This alarms feed action runs inside the Whirl controller; invoke it through the REST API or a client.' };
}
`;

const feedDoc = (description: string, params: [string, string][]): KeyValue[] => [
  { key: 'feed', value: true },
  ...doc(description, params),
];

const alarms: CatalogAction[] = [
  {
    name: 'alarm',
    code: feedStub,
    annotations: [
      ...feedDoc('Fire trigger when alarm occurs', [
        ['cron', 'A cron pattern: 5 fields, or 6 with leading seconds'],
        ['timezone', 'IANA time zone of the cron pattern (default UTC)'],
        ['trigger_payload', 'The payload to fire the trigger with'],
        ['startDate', 'Date of the first possible fire'],
        ['stopDate', 'Date after which the trigger no longer fires'],
      ]),
      { key: INTERNAL_ANNOTATION, value: 'alarms/alarm' },
    ],
  },
  {
    name: 'once',
    code: feedStub,
    parameters: [{ key: 'fireOnce', value: true }],
    annotations: [
      ...feedDoc('Fire trigger once when alarm occurs', [
        ['date', 'Date of the fire'],
        ['trigger_payload', 'The payload to fire the trigger with'],
        ['deleteAfterFire', 'false, true (delete the trigger) or rules (delete the trigger and its rules)'],
      ]),
      { key: INTERNAL_ANNOTATION, value: 'alarms/once' },
    ],
  },
  {
    name: 'interval',
    code: feedStub,
    parameters: [{ key: 'isInterval', value: true }],
    annotations: [
      ...feedDoc('Fire trigger at specified interval', [
        ['minutes', 'Minutes between fires'],
        ['trigger_payload', 'The payload to fire the trigger with'],
        ['startDate', 'Date of the first fire'],
        ['stopDate', 'Date after which the trigger no longer fires'],
      ]),
      { key: INTERNAL_ANNOTATION, value: 'alarms/interval' },
    ],
  },
];

/** Never reached in practice: the controller runs these itself (gateway/apimgmt.ts). */
const apimgmtStub = `function main() {
  return { statusCode: 500, body: { error: 'This route management action runs inside the Whirl controller.' } };
}
`;

/**
 * `/whisk.system/apimgmt`: the route management web actions of the built-in API gateway. They need
 * the caller's credentials (`require-whisk-auth`), which tell whose APIs are meant.
 */
const apimgmtAction = (name: string, handler: string, description: string): CatalogAction => ({
  name,
  code: apimgmtStub,
  annotations: [
    { key: 'description', value: description },
    { key: 'web-export', value: true },
    { key: 'raw-http', value: false },
    { key: 'final', value: true },
    { key: 'require-whisk-auth', value: true },
    { key: INTERNAL_ANNOTATION, value: handler },
  ],
});

const apimgmt: CatalogAction[] = [
  apimgmtAction('createApi', 'apimgmt/createApi', 'Create an API route (or import a swagger document)'),
  apimgmtAction('getApi', 'apimgmt/getApi', 'Get the APIs of the caller, or one by base path or name'),
  apimgmtAction('deleteApi', 'apimgmt/deleteApi', 'Delete an API, one of its paths, or one operation of a path'),
];

const inController = `function main() {
  return { error: 'This action runs inside the Whirl controller; invoke it through the REST API or a client.' };
}
`;

const messaging: CatalogAction[] = [
  {
    name: 'kafkaFeed',
    code: inController,
    annotations: [
      ...feedDoc('Fire a trigger with each batch of messages posted to a Kafka topic', [
        ['brokers', 'Array (or comma-separated string) of host:port brokers'],
        ['topic', 'The topic to listen to'],
        ['isJSONData', 'Parse message values as JSON (default false)'],
        ['isBinaryKey', 'Pass keys base64-encoded (default false)'],
        ['isBinaryValue', 'Pass values base64-encoded (default false)'],
        ['maxBatch', 'Most messages per fire (default 100)'],
      ]),
      { key: INTERNAL_ANNOTATION, value: 'messaging/kafkaFeed' },
    ],
  },
  {
    name: 'kafkaProduce',
    code: inController,
    annotations: [
      ...doc('Produce a message to a Kafka topic', [
        ['brokers', 'Array (or comma-separated string) of host:port brokers'],
        ['topic', 'The topic to produce to'],
        ['value', 'The message value (JSON values are serialized)'],
        ['key', 'The message key (optional)'],
        ['base64DecodeValue', 'Decode value from base64 first (default false)'],
        ['base64DecodeKey', 'Decode key from base64 first (default false)'],
      ]),
      { key: INTERNAL_ANNOTATION, value: 'messaging/kafkaProduce' },
    ],
  },
];

const couchdb: CatalogAction[] = [
  {
    name: 'changes',
    code: inController,
    annotations: [
      ...feedDoc('Fire a trigger for each change of a CouchDB-API database', [
        ['host', 'The database server, e.g. http://127.0.0.1:5984 (https when no scheme)'],
        ['dbname', 'The database to watch'],
        ['username', 'User name (optional)'],
        ['password', 'Password (optional)'],
        ['filter', 'A filter function, designdoc/filtername (optional)'],
        ['query_params', 'Query parameters of the filter, a JSON object (optional)'],
      ]),
      { key: INTERNAL_ANNOTATION, value: 'couchdb/changes' },
    ],
  },
];

const webhook: CatalogAction[] = [
  {
    name: 'webhook',
    code: inController,
    annotations: [
      ...feedDoc('Give a trigger a secret URL that fires it with HMAC-signed (X-Hub-Signature-256) request bodies', [
        ['secret', 'The HMAC secret, at least 16 characters (generated when absent)'],
      ]),
      { key: INTERNAL_ANNOTATION, value: 'webhook/webhook' },
    ],
  },
];

export function catalogPackages(apiHost: string): CatalogPackage[] {
  return [
    {
      name: 'utils',
      parameters: [],
      annotations: [{ key: 'description', value: 'Building blocks that format and assemble data' }],
      actions: utils,
    },
    {
      name: 'alarms',
      parameters: [
        { key: 'apihost', value: apiHost },
        { key: 'trigger_payload', value: '' },
      ],
      annotations: [{ key: 'description', value: 'Alarms and periodic utility' }],
      actions: alarms,
    },
    {
      name: 'apimgmt',
      parameters: [],
      annotations: [{ key: 'description', value: 'API gateway route management' }],
      actions: apimgmt,
    },
    {
      name: 'messaging',
      parameters: [{ key: 'endpoint', value: apiHost }],
      annotations: [{ key: 'description', value: 'Kafka feed and producer' }],
      actions: messaging,
    },
    {
      name: 'couchdb',
      parameters: [],
      annotations: [{ key: 'description', value: 'CouchDB database changes feed' }],
      actions: couchdb,
    },
    {
      name: 'webhook',
      parameters: [],
      annotations: [{ key: 'description', value: 'Signed webhooks that fire triggers' }],
      actions: webhook,
    },
  ];
}
