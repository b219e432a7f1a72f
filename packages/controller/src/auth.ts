/**
 * Basic authentication against the subject store, with keys hashed at rest (scrypt, see core's
 * identity.ts). Verifying a key costs tens of milliseconds on purpose, so the hot path never does it:
 * a verified credential is cached by uuid together with a SHA-256 digest of the key that matched,
 * and a request whose key has the same digest (compared in constant time) is served from memory.
 *
 * The cache is bounded (oldest entries go first) and entries expire after `ttlMs`, so a change made
 * directly in the store is seen within that time; changes made through the admin API invalidate the
 * affected entries at once here and, through `onLocalChange` (the cacheInvalidation topic), on every
 * other controller. Concurrent first requests with the same credential share one verification.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import {
  AUTH_KEY_LENGTH,
  ForbiddenError,
  Messages,
  UnauthorizedError,
  verifyKey,
  type Identity,
  type SubjectStore,
} from '@whirl/core';

/** Which cached credentials a change affects. */
export interface AuthInvalidation {
  subject?: string;
  namespace?: string;
}

export const blockedMessage = 'The namespace is blocked by the operator; every request is refused until it is unblocked.';

interface Verified {
  digest: Buffer;
  /** undefined: the uuid exists but the key did not match (kept briefly so wrong keys cost one hash). */
  identity: Identity | undefined;
  blocked: boolean;
  subject: string;
  expires: number;
}

export class Authenticator {
  private readonly cache = new Map<string, Verified>();
  private readonly inflight = new Map<string, Promise<Verified | undefined>>();
  /** Told of every local invalidation, so that other controllers can drop their copies. */
  onLocalChange: ((change: AuthInvalidation) => void) | undefined;

  constructor(
    private readonly subjects: SubjectStore,
    private readonly opts: { ttlMs?: number; maxEntries?: number } = {},
  ) {}

  /** Resolves the Authorization header, or undefined when none was sent. Throws 401 on bad credentials, 403 when blocked. */
  async identify(header: string | undefined): Promise<Identity | undefined> {
    if (header === undefined || header === '') return undefined;
    const m = /^Basic\s+(\S+)$/i.exec(header);
    if (!m) throw new UnauthorizedError(Messages.badAuth);
    const decoded = Buffer.from(m[1]!, 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    if (colon < 0) throw new UnauthorizedError(Messages.badAuth);
    return this.verify(decoded.slice(0, colon), decoded.slice(colon + 1));
  }

  async require(header: string | undefined): Promise<Identity> {
    const id = await this.identify(header);
    if (!id) throw new UnauthorizedError(Messages.missingAuth);
    return id;
  }

  /** The identity of a `uuid:key` pair; throws 401 when unknown or wrong, 403 when the subject is blocked. */
  async verify(uuid: string, key: string): Promise<Identity> {
    if (key.length !== AUTH_KEY_LENGTH || uuid === '') throw new UnauthorizedError(Messages.badAuth);
    const digest = createHash('sha256').update(key).digest();
    const now = Date.now();
    let v = this.cache.get(uuid);
    if (!v || v.expires <= now || !timingSafeEqual(v.digest, digest)) {
      const flightKey = `${uuid}\u0000${digest.toString('hex')}`;
      let p = this.inflight.get(flightKey);
      if (!p) {
        p = this.lookup(uuid, key, digest).finally(() => this.inflight.delete(flightKey));
        this.inflight.set(flightKey, p);
      }
      v = await p;
    }
    if (!v?.identity) throw new UnauthorizedError(Messages.badAuth);
    if (v.blocked) throw new ForbiddenError(blockedMessage, 'SUBJECT_BLOCKED');
    return v.identity;
  }

  /** A change made through this controller: drop affected entries here and tell the others. */
  invalidate(change: AuthInvalidation): void {
    this.invalidateRemote(change);
    this.onLocalChange?.(change);
  }

  /** Another controller changed a subject or a namespace's limits. */
  invalidateRemote(change: AuthInvalidation): void {
    for (const [uuid, v] of this.cache) {
      if ((change.subject !== undefined && v.subject === change.subject) || (change.namespace !== undefined && v.identity?.namespace.name === change.namespace)) {
        this.cache.delete(uuid);
      }
    }
  }

  private async lookup(uuid: string, key: string, digest: Buffer): Promise<Verified | undefined> {
    const found = await this.subjects.credential(uuid);
    if (!found) return undefined;
    const ok = await verifyKey(key, found.credential.keyHash);
    const identity: Identity | undefined = ok
      ? { subject: found.subject.subject, namespace: { name: found.credential.name, uuid, key }, limits: await this.subjects.getLimits(found.credential.name) }
      : undefined;
    const v: Verified = {
      digest,
      identity,
      blocked: found.subject.blocked === true,
      subject: found.subject.subject,
      // A mismatch is remembered only briefly: the right key may follow at once.
      expires: Date.now() + (ok ? (this.opts.ttlMs ?? 30_000) : 1_000),
    };
    // Only a verified key replaces what is cached, so a wrong guess cannot evict a good entry.
    if (ok || !this.cache.has(uuid)) {
      this.cache.delete(uuid);
      this.cache.set(uuid, v);
      const max = this.opts.maxEntries ?? 10_000;
      while (this.cache.size > max) this.cache.delete(this.cache.keys().next().value!);
    }
    return v;
  }
}
