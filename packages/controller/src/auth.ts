/**
 * Basic authentication against the subject store. Identities are cached briefly so that the hot path
 * does no store read per request; a revoked key stops working within `ttlMs`.
 */
import {
  AUTH_KEY_LENGTH,
  Messages,
  UnauthorizedError,
  type Identity,
  type SubjectStore,
} from '@whirl/core';

export class Authenticator {
  private readonly cache = new Map<string, { identity: Identity | undefined; expires: number }>();

  constructor(
    private readonly subjects: SubjectStore,
    private readonly ttlMs = 10_000,
  ) {}

  /** Resolves the Authorization header, or undefined when none was sent. Throws 401 on bad credentials. */
  async identify(header: string | undefined): Promise<Identity | undefined> {
    if (header === undefined || header === '') return undefined;
    const now = Date.now();
    const hit = this.cache.get(header);
    if (hit && hit.expires > now) {
      if (!hit.identity) throw new UnauthorizedError(Messages.badAuth);
      return hit.identity;
    }
    const identity = await this.lookup(header);
    if (this.cache.size > 10_000) this.cache.clear();
    this.cache.set(header, { identity, expires: now + this.ttlMs });
    if (!identity) throw new UnauthorizedError(Messages.badAuth);
    return identity;
  }

  async require(header: string | undefined): Promise<Identity> {
    const id = await this.identify(header);
    if (!id) throw new UnauthorizedError(Messages.missingAuth);
    return id;
  }

  private async lookup(header: string): Promise<Identity | undefined> {
    const m = /^Basic\s+(\S+)$/i.exec(header);
    if (!m) return undefined;
    const decoded = Buffer.from(m[1]!, 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    if (colon < 0) return undefined;
    const uuid = decoded.slice(0, colon);
    const key = decoded.slice(colon + 1);
    if (key.length !== AUTH_KEY_LENGTH) return undefined;
    return this.subjects.identify(uuid, key);
  }
}
