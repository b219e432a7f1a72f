/** Subjects own namespaces; a namespace has a uuid:key credential pair (OpenWhisk's subjects db). */
import crypto, { randomBytes, randomUUID } from 'node:crypto';
import type { UserLimits } from './limits.js';

export interface NamespaceCredential {
  name: string;
  uuid: string;
  /** Exactly 64 characters. */
  key: string;
}

export interface Subject {
  subject: string;
  namespaces: NamespaceCredential[];
  blocked?: boolean;
}

/** Who is calling: resolved from Basic credentials. */
export interface Identity {
  subject: string;
  namespace: NamespaceCredential;
  /** Per-namespace overrides; the effective limits are these over the system defaults. */
  limits: Partial<UserLimits>;
}

export const AUTH_KEY_LENGTH = 64;

/** A fresh credential for a namespace: a random uuid and a random 64-character key (never a well-known one). */
export function newCredential(name: string): NamespaceCredential {
  return { name, uuid: randomUUID(), key: randomBytes(48).toString('base64url').slice(0, AUTH_KEY_LENGTH) };
}

/**
 * Compares a presented key with a stored one in time that does not depend on where they differ, so
 * response times cannot be used to guess a key byte by byte. Stores look credentials up by uuid and
 * then compare the key with this, never by the key itself (an index lookup leaks the same way).
 */
export function keysEqual(presented: string, stored: string): boolean {
  const a = Buffer.from(presented, 'utf8');
  const b = Buffer.from(stored, 'utf8');
  // Keys have one fixed length, so an early length check gives nothing away.
  if (a.length !== b.length) return false;
  // Through the module object (not a named import) so that the security suite can watch it.
  return crypto.timingSafeEqual(a, b);
}
