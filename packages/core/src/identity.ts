/** Subjects own namespaces; a namespace has a uuid:key credential pair (OpenWhisk's subjects db). */
import { randomBytes, randomUUID } from 'node:crypto';
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
