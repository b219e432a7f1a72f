/** Reading what a user pastes into the sign-in box (pure, so unit tests run it in Node). */

/**
 * A pasted key, either `uuid:key` alone or the lines of a wskprops file (`AUTH=...`, `APIHOST=...`).
 * Returns the key, or a sentence saying what is wrong with the paste.
 */
export function parseKeyPaste(text: string): { auth: string; apiHost?: string } | { error: string } {
  const trimmed = text.trim();
  if (trimmed === '') return { error: 'Paste the namespace key (uuid:key) or the lines of a wskprops file.' };
  const fields: Record<string, string> = {};
  for (const line of trimmed.split(/\r?\n|\s+(?=[A-Z_]+=)/)) {
    const m = /^\s*(?:export\s+)?([A-Z_]+)\s*=\s*(.*?)\s*$/.exec(line);
    if (m) fields[m[1]!] = m[2]!.replace(/^["']|["']$/g, '');
  }
  const auth = fields.AUTH ?? (Object.keys(fields).length === 0 ? trimmed : undefined);
  if (!auth) return { error: 'The pasted text has no AUTH= line.' };
  if (!/^[^:\s]+:[^:\s]+$/.test(auth)) return { error: 'A key has the form uuid:key (two parts joined by a colon, no spaces).' };
  return fields.APIHOST ? { auth, apiHost: fields.APIHOST } : { auth };
}
