/** Subjects a process needs to exist (guest, whisk.system), created on first start. */
import { newCredential, storedCredential, type SubjectStore } from '@whirl/core';

/**
 * The subject's own namespace credential, created with a random key when the subject is missing.
 * Keys are stored hashed, so `key` is known only when this call created it.
 */
export async function ensureSubject(subjects: SubjectStore, name: string): Promise<{ name: string; uuid: string; key?: string }> {
  const existing = await subjects.getSubject(name);
  const ns = existing?.namespaces.find((n) => n.name === name);
  if (ns) return { name, uuid: ns.uuid };
  const cred = newCredential(name);
  await subjects.putSubject({ subject: name, namespaces: [...(existing?.namespaces ?? []), await storedCredential(cred)] });
  return cred;
}
