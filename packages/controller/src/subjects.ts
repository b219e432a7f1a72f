/** Subjects a process needs to exist (guest, whisk.system), created on first start. */
import { newCredential, type NamespaceCredential, type SubjectStore } from '@whirl/core';

/** The subject's own namespace credential, created with a random key when the subject is missing. */
export async function ensureSubject(subjects: SubjectStore, name: string): Promise<NamespaceCredential> {
  const existing = await subjects.getSubject(name);
  const ns = existing?.namespaces.find((n) => n.name === name);
  if (ns) return ns;
  const cred = newCredential(name);
  await subjects.putSubject({ subject: name, namespaces: [cred] });
  return cred;
}
