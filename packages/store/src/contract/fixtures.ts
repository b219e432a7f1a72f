/** Entity and activation builders shared by the store conformance suites. */
import { randomBytes } from 'node:crypto';
import { defaultActionLimits, type ActivationRecord, type KeyValue, type WhiskAction, type WhiskPackage, type WhiskRule, type WhiskTrigger } from '@whirl/core';

export function action(namespace: string, name: string, updated: number, publish = false): WhiskAction {
  return {
    entityType: 'action',
    namespace,
    name,
    version: '0.0.1',
    publish,
    annotations: [{ key: 'exec', value: 'nodejs:20' }],
    updated,
    exec: { kind: 'nodejs:20', code: 'function main(a) { return a; }', binary: false },
    parameters: [{ key: 'x', value: 1 }],
    limits: defaultActionLimits(),
  };
}

export function pkg(namespace: string, name: string, updated: number, publish = false): WhiskPackage {
  return { entityType: 'package', namespace, name, version: '0.0.1', publish, annotations: [], updated, parameters: [], binding: {} };
}

export function trigger(namespace: string, name: string, updated: number): WhiskTrigger {
  return { entityType: 'trigger', namespace, name, version: '0.0.1', publish: false, annotations: [], updated, parameters: [], limits: {} };
}

export function rule(namespace: string, name: string, updated: number): WhiskRule {
  return {
    entityType: 'rule',
    namespace,
    name,
    version: '0.0.1',
    publish: false,
    annotations: [],
    updated,
    trigger: { path: namespace, name: 't' },
    action: { path: namespace, name: 'a' },
  };
}

export function activationId(): string {
  return randomBytes(16).toString('hex');
}

/** An action activation; `path` is the annotation value (`ns/[pkg/]name`), omitted for trigger records. */
export function activation(
  namespace: string,
  name: string,
  start: number,
  opts: { path?: string; binding?: string; id?: string; result?: unknown } = {},
): ActivationRecord {
  const annotations: KeyValue[] = [];
  if (opts.path !== undefined) annotations.push({ key: 'path', value: opts.path }, { key: 'kind', value: 'nodejs:20' });
  if (opts.binding !== undefined) annotations.push({ key: 'binding', value: opts.binding });
  return {
    namespace,
    name,
    version: '0.0.1',
    subject: namespace,
    publish: false,
    activationId: opts.id ?? activationId(),
    start,
    end: opts.path === undefined ? 0 : start + 5,
    ...(opts.path === undefined ? {} : { duration: 5 }),
    response: { statusCode: 0, result: opts.result ?? { ok: true } },
    logs: [],
    annotations,
  };
}
