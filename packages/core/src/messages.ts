/**
 * What travels on the bus between controllers and invokers. JSON with a version field `v`, decoded
 * with zod at the receiving end so that a message from an incompatible build is rejected loudly
 * instead of being half-understood.
 */
import { z } from 'zod';
import type { ActivationRecord } from './activation.js';
import type { BusMessage, BusValue, PendingActivation } from './ports.js';

const keyValue = z.object({ key: z.string(), value: z.unknown(), init: z.boolean().optional() });

export const ActivationMessageSchema = z.object({
  v: z.literal(1),
  transid: z.string(),
  activationId: z.string(),
  /** Epoch ms the controller received the request (waitTime is measured from here). */
  received: z.number(),
  /** Epoch ms after which the activation must not start (stale work is recorded as failed). */
  deadline: z.number(),
  controller: z.string(),
  blocking: z.boolean(),
  /** The invoking identity. */
  user: z.object({ subject: z.string(), namespace: z.string(), uuid: z.string(), apiKey: z.string() }),
  /** Document id of the action and the revision that was resolved; the invoker pins it. */
  action: z.object({
    docId: z.string(),
    rev: z.string(),
    /** `ns[/pkg]` where the action lives, and its name and version. */
    path: z.string(),
    name: z.string(),
    version: z.string(),
    /** `ns/binding` when reached through a package binding. */
    binding: z.string().optional(),
  }),
  /** Merged run parameters (package < binding < action < request), minus init parameters. */
  content: z.record(z.string(), z.unknown()).or(z.array(z.unknown())),
  /** Init parameters: go to /init's env. */
  initArgs: z.array(keyValue),
  cause: z.string().optional(),
  /**
   * Where the invoker may post a blocking caller's result directly (HTTP), skipping the bus hop back;
   * the bus still carries the completion. `token` authenticates the post.
   */
  replyTo: z.object({ url: z.string(), token: z.string() }).optional(),
  /**
   * The controller also posted this activation to the invoker's direct channel (or tried to): the
   * bus copy is its write-behind log, and the invoker runs whichever copy comes first, once.
   */
  direct: z.boolean().optional(),
  /**
   * The action's time limit (ms). Whoever watches for activations that never complete (the
   * controllers' ledger) reckons from it when a record is overdue.
   */
  timeoutMs: z.number().optional(),
  /** Extra annotations for the record, e.g. causedBy. */
  annotations: z.array(keyValue).optional(),
  /**
   * How the record is kept, from the namespace's limits and the action's annotations: a successful
   * blocking activation is not stored when `skipSuccessfulBlocking`; stored logs are capped at
   * `logBytes` and `logLines` over the action's own log limit.
   */
  store: z
    .object({ skipSuccessfulBlocking: z.boolean().optional(), logBytes: z.number().optional(), logLines: z.number().optional() })
    .optional(),
});
export type ActivationMessage = z.infer<typeof ActivationMessageSchema>;

/**
 * Invoker → controller. `result` completes a blocking waiter (the record without logs); `completion`
 * frees the load balancer's slot. The invoker sends a result first for blocking calls, then a
 * completion once logs are collected and the record is stored, or one combined message.
 */
export interface AckMessage {
  v: 1;
  transid: string;
  activationId: string;
  invoker: string;
  /** Present when a blocking waiter should be answered. */
  result?: ActivationRecord;
  /** Present when the slot can be released. */
  completion?: { isSystemError: boolean };
}

export function encode(msg: unknown): Buffer {
  return Buffer.from(JSON.stringify(msg));
}

export function decodeActivationMessage(buf: Buffer): ActivationMessage {
  return ActivationMessageSchema.parse(JSON.parse(buf.toString('utf8')));
}

/** What a record of this activation needs should nobody finish it (forced completion, the ledger). */
export function pendingActivationOf(msg: ActivationMessage): PendingActivation {
  return {
    namespace: msg.user.namespace,
    activationId: msg.activationId,
    received: msg.received,
    subject: msg.user.subject,
    path: msg.action.path,
    name: msg.action.name,
    version: msg.action.version,
    ...(msg.cause !== undefined ? { cause: msg.cause } : {}),
    ...(msg.action.binding !== undefined ? { binding: msg.action.binding } : {}),
  };
}

/** The activation message a bus delivered: the object as published in-process, else decoded and checked. */
export function activationMessageOf(m: BusMessage): ActivationMessage {
  return m.object !== undefined ? (m.object as ActivationMessage) : decodeActivationMessage(m.value);
}

/** The ack a bus delivered: the object as published in-process, else decoded and checked. */
export function ackOf(m: BusMessage): AckMessage {
  return m.object !== undefined ? (m.object as AckMessage) : decodeAck(m.value);
}

/** Bytes of a published value, for buses that cross processes (objects go as JSON). */
export function busBytes(value: BusValue): Buffer {
  if (typeof value === 'string') return Buffer.from(value);
  if (Buffer.isBuffer(value)) return value;
  return encode(value.object);
}

export function decodeAck(buf: Buffer): AckMessage {
  const m = JSON.parse(buf.toString('utf8')) as AckMessage;
  if (m.v !== 1 || typeof m.activationId !== 'string') throw new Error('not a Whirl ack message (v1)');
  return m;
}

export const Topics = {
  invoker: (id: string | number) => `invoker${id}`,
  completed: (id: string | number) => `completed${id}`,
  health: 'health',
  cacheInvalidation: 'cacheInvalidation',
  /** Compositions a controller has handed an id out for (the ledger's notes; see controller/ledger.ts). */
  compositions: 'compositions',
} as const;
