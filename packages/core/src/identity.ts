/**
 * Subjects own namespaces; a namespace has one or more uuid:key credentials (OpenWhisk's subjects db,
 * plus rotation). Keys are kept at rest only as salted scrypt hashes: the clear key exists once, when
 * it is created, and afterwards only in the caller's hands.
 */
import crypto, { randomBytes, randomUUID, scrypt, scryptSync } from 'node:crypto';
import type { UserLimits } from './limits.js';

/** A credential in the clear: what a caller presents, and what creation hands out once. */
export interface NamespaceCredential {
  name: string;
  uuid: string;
  /** Exactly 64 characters (empty for an identity resolved without credentials, e.g. a web action's owner). */
  key: string;
}

/** A credential as stored: the key only as a hash (see `hashKey`). */
export interface StoredCredential {
  name: string;
  uuid: string;
  /** `scrypt$<N>$<r>$<p>$<salt base64>$<hash base64>`. */
  keyHash: string;
  /** Epoch ms the key was created. */
  created?: number;
}

export interface Subject {
  subject: string;
  namespaces: StoredCredential[];
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

/*
 * scrypt with N=2^14, r=8, p=1 (16 MB, tens of milliseconds): costly enough that a leaked store does
 * not give keys away cheaply, cheap enough because the controller verifies a key once and then serves
 * it from its verified-credential cache. The parameters are stored with each hash so they can change.
 */
const SCRYPT = { N: 16384, r: 8, p: 1, keyLen: 32, saltLen: 16 };

function encodeHash(N: number, r: number, p: number, salt: Buffer, hash: Buffer): string {
  return `scrypt$${N}$${r}$${p}$${salt.toString('base64')}$${hash.toString('base64')}`;
}

function decodeHash(stored: string): { N: number; r: number; p: number; salt: Buffer; hash: Buffer } | undefined {
  const parts = stored.split('$');
  if (parts.length !== 6 || parts[0] !== 'scrypt') return undefined;
  const [N, r, p] = [Number(parts[1]), Number(parts[2]), Number(parts[3])];
  if (![N, r, p].every((n) => Number.isInteger(n) && n > 0)) return undefined;
  return { N, r, p, salt: Buffer.from(parts[4]!, 'base64'), hash: Buffer.from(parts[5]!, 'base64') };
}

function scryptAsync(key: string, salt: Buffer, keyLen: number, o: { N: number; r: number; p: number }): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    scrypt(key, salt, keyLen, { N: o.N, r: o.r, p: o.p, maxmem: 128 * o.N * o.r * 2 }, (err, out) => (err ? reject(err) : resolve(out)));
  });
}

/** A salted hash of `key`, off the event loop (libuv's thread pool). */
export async function hashKey(key: string): Promise<string> {
  const salt = randomBytes(SCRYPT.saltLen);
  return encodeHash(SCRYPT.N, SCRYPT.r, SCRYPT.p, salt, await scryptAsync(key, salt, SCRYPT.keyLen, SCRYPT));
}

/** The same, synchronously: for migrations at start, before anything is served. */
export function hashKeySync(key: string): string {
  const salt = randomBytes(SCRYPT.saltLen);
  const hash = scryptSync(key, salt, SCRYPT.keyLen, { N: SCRYPT.N, r: SCRYPT.r, p: SCRYPT.p, maxmem: 128 * SCRYPT.N * SCRYPT.r * 2 });
  return encodeHash(SCRYPT.N, SCRYPT.r, SCRYPT.p, salt, hash);
}

/** Whether `key` matches the stored hash; the comparison takes the same time wherever they differ. */
export async function verifyKey(key: string, stored: string): Promise<boolean> {
  const h = decodeHash(stored);
  if (!h) return false;
  const got = await scryptAsync(key, h.salt, h.hash.length, h);
  // Through the module object (not a named import) so that the security suite can watch it.
  return got.length === h.hash.length && crypto.timingSafeEqual(got, h.hash);
}

/** The stored form of a fresh credential. */
export async function storedCredential(cred: NamespaceCredential, created = Date.now()): Promise<StoredCredential> {
  return { name: cred.name, uuid: cred.uuid, keyHash: await hashKey(cred.key), created };
}

/**
 * A subject document from before keys were hashed carries `key` in the clear: returns it with each
 * such key hashed (and the clear key gone), or undefined when there was nothing to migrate.
 */
export function migrateClearKeys(subject: Subject): Subject | undefined {
  let changed = false;
  const namespaces = subject.namespaces.map((n) => {
    const legacy = n as StoredCredential & { key?: unknown };
    if (typeof legacy.key !== 'string') return n;
    changed = true;
    const { key, ...rest } = legacy;
    return { ...rest, keyHash: typeof rest.keyHash === 'string' ? rest.keyHash : hashKeySync(key as string) };
  });
  return changed ? { ...subject, namespaces } : undefined;
}
