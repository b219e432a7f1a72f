/**
 * Installs the system catalog under `whisk.system` at start. Idempotent: an entity whose content is
 * unchanged is left alone (same version, same revision), one that differs from this build's
 * definition is updated with a patch bump, a missing one is created. So a restart costs a few reads,
 * and a new build's catalog replaces the old one.
 */
import {
  bumpVersion,
  defaultActionLimits,
  type EntityStore,
  type KeyValue,
  type WhiskAction,
  type WhiskEntity,
  type WhiskPackage,
} from '@whirl/core';
import type { Ctx } from '../context.js';
import { catalogPackages } from './definitions.js';
import { SYSTEM_NAMESPACE } from './system-actions.js';

export { SystemActions, SYSTEM_NAMESPACE, INTERNAL_ANNOTATION, type SystemActionHandler } from './system-actions.js';

/** The fields that define an entity's content (not its version, time or revision). */
function content(e: WhiskEntity): string {
  const { version: _v, updated: _u, ...rest } = e;
  return JSON.stringify(rest);
}

async function upsert(store: EntityStore, doc: WhiskEntity): Promise<boolean> {
  const id = `${doc.namespace}/${doc.name}`;
  const cur = await store.get(id);
  if (!cur) {
    await store.create(doc);
    return true;
  }
  if (cur.doc.entityType === doc.entityType && content(cur.doc) === content(doc)) return false;
  await store.update({ ...doc, version: bumpVersion(cur.doc.version) }, cur.rev);
  return true;
}

/** Returns the ids of the entities it created or changed. */
export async function installCatalog(ctx: Ctx, opts: { apiHost: string }): Promise<string[]> {
  const kind = ctx.kinds.resolve('nodejs:default')?.kind ?? 'nodejs:20';
  const changed: string[] = [];
  const now = Date.now();
  for (const p of catalogPackages(opts.apiHost)) {
    const pkg: WhiskPackage = {
      entityType: 'package',
      namespace: SYSTEM_NAMESPACE,
      name: p.name,
      version: '0.0.1',
      publish: true,
      annotations: p.annotations,
      parameters: p.parameters,
      binding: {},
      updated: now,
    };
    if (await upsert(ctx.entities, pkg)) changed.push(`${SYSTEM_NAMESPACE}/${p.name}`);
    for (const a of p.actions) {
      const annotations: KeyValue[] = [{ key: 'provide-api-key', value: false }, ...a.annotations, { key: 'exec', value: kind }];
      const action: WhiskAction = {
        entityType: 'action',
        namespace: `${SYSTEM_NAMESPACE}/${p.name}`,
        name: a.name,
        version: '0.0.1',
        publish: false,
        exec: { kind, code: a.code, binary: false },
        parameters: a.parameters ?? [],
        annotations,
        limits: defaultActionLimits(),
        updated: now,
      };
      if (await upsert(ctx.entities, action)) changed.push(`${SYSTEM_NAMESPACE}/${p.name}/${a.name}`);
    }
  }
  for (const id of changed) ctx.cache.invalidate(id);
  return changed;
}
