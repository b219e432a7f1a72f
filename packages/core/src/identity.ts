/** Subjects own namespaces; a namespace has a uuid:key credential pair (OpenWhisk's subjects db). */
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
