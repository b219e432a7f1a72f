/**
 * What the invoker checks of a message before it asks the pool for a container: not expired, the
 * action still there at the revision the controller resolved, an image to run it with. Each failed
 * check is an outcome with a response for the record, never an exception: every message the invoker
 * takes ends in a stored record.
 */
import {
  ActivationStatus,
  errorResponse,
  type ActivationMessage,
  type BlackboxExec,
  type CodeExec,
  type ContainerFactory,
  type EntityStore,
  type WhiskAction,
} from '@whirl/core';
import { Msg, type Response } from './response.js';
import type { InvokerLog, RuntimeImages } from './types.js';

export type Checked =
  | { ok: true; action: WhiskAction; exec: CodeExec | BlackboxExec; image: string }
  | { ok: false; action?: WhiskAction; response: Response };

export class MessageChecks {
  private readonly actions = new Map<string, WhiskAction>();

  constructor(
    private readonly deps: { entities: EntityStore; factory: ContainerFactory; runtimes: RuntimeImages; log: InvokerLog },
    /** Pull blackbox images that are not present locally (an operator's explicit choice). */
    private readonly pullImages: boolean,
  ) {}

  async check(msg: ActivationMessage, now: number): Promise<Checked> {
    if (now > msg.deadline) return { ok: false, response: errorResponse(ActivationStatus.WhiskError, Msg.expired(now - msg.received)) };
    let action: WhiskAction | undefined;
    try {
      action = await this.loadAction(msg);
    } catch (err) {
      // The store is down: the activation fails (its record waits in the writer until the store is
      // back) rather than vanish without a record or an ack.
      this.deps.log.warn({ err, activationId: msg.activationId }, 'could not load the action');
      return { ok: false, response: errorResponse(ActivationStatus.WhiskError, Msg.storeDown) };
    }
    if (!action) return { ok: false, response: errorResponse(ActivationStatus.ApplicationError, Msg.actionGone) };
    const exec = action.exec as CodeExec | BlackboxExec;
    if (exec.kind === 'blackbox') {
      const requested = (exec as BlackboxExec).image;
      const image = await this.blackboxImage(requested);
      if (image === null) return { ok: false, action, response: errorResponse(ActivationStatus.DeveloperError, `Failed to pull container image '${requested}'.`) };
      return { ok: true, action, exec, image };
    }
    const image = this.deps.runtimes.imageFor(exec.kind);
    if (!image) return { ok: false, action, response: errorResponse(ActivationStatus.WhiskError, `The runtime '${exec.kind}' is not available on this invoker.`) };
    return { ok: true, action, exec, image };
  }

  /** The action at the revision the controller resolved; cached, since a revision never changes. */
  private async loadAction(msg: ActivationMessage): Promise<WhiskAction | undefined> {
    const key = `${msg.action.docId}@${msg.action.rev}`;
    const hit = this.actions.get(key);
    if (hit) return hit;
    const found = await this.deps.entities.get(msg.action.docId);
    if (!found || found.doc.entityType !== 'action') return undefined;
    // An update between the controller's read and ours: run what is stored now, cache it under its own revision.
    if (this.actions.size > 1000) this.actions.clear();
    this.actions.set(`${msg.action.docId}@${found.rev}`, found.doc);
    return found.doc;
  }

  /**
   * The image to run a blackbox action with: the local one, or null when it is missing and cannot be
   * pulled (the activation then fails with OpenWhisk's "Failed to pull container image").
   */
  private async blackboxImage(requested: string): Promise<string | null> {
    const image = this.deps.runtimes.blackboxImage?.(requested) ?? requested;
    if (await this.deps.factory.hasImage(image).catch(() => false)) return image;
    if (!this.pullImages || !this.deps.factory.pull) return null;
    try {
      await this.deps.factory.pull(image);
      return image;
    } catch (err) {
      this.deps.log.warn({ err, image }, 'image pull failed');
      return null;
    }
  }
}
