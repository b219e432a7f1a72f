/**
 * Activation status and the timeline's paging. Pure (no DOM), so unit tests run it in Node; api.ts
 * re-exports it for the screens.
 */

/** The fields read here; api.ts's Activation has them all. */
export interface ActivationLike {
  activationId: string;
  start: number;
  statusCode?: number;
  response?: { status: string; statusCode?: number; success: boolean };
}

/** The server's status strings, indexed by OpenWhisk's statusCode (0 success … 3 whisk internal error). */
export const STATUS_NAMES = ['success', 'application error', 'action developer error', 'whisk internal error'] as const;

/**
 * The activation's statusCode, whichever form it came in: a summary carries it at the top level, a
 * full activation (docs=true, GET /activations/ID, blocking invoke) only as `response.status` text.
 * A trigger's summary has neither (it never ends); it counts as a success, as its record says.
 */
export function statusCodeOf(a: ActivationLike): number {
  if (a.statusCode !== undefined) return a.statusCode;
  if (a.response?.statusCode !== undefined) return a.response.statusCode;
  const i = (STATUS_NAMES as readonly string[]).indexOf(a.response?.status ?? 'success');
  return i >= 0 ? i : a.response?.success === false ? 3 : 0;
}

export function statusName(a: ActivationLike): string {
  if (a.response?.status) return a.response.status;
  const code = statusCodeOf(a);
  return STATUS_NAMES[code] ?? `status ${code}`;
}

export interface FoundActivations<A extends ActivationLike = ActivationLike> {
  items: A[];
  /** How many of the newest activations were looked at. */
  scanned: number;
  /** Every activation there is was looked at (a page came back short). */
  complete: boolean;
}

/**
 * Pages newest-first through the activations until `want` of them match or `maxPages` pages were
 * read: the server filters by name but not by status, so a status filter has to look past the first
 * page, and the bound keeps a 2-second poll from walking the whole history.
 */
export async function findActivations<A extends ActivationLike>(
  fetchPage: (skip: number, limit: number) => Promise<A[]>,
  matches: (a: A) => boolean,
  opts: { want: number; pageSize: number; maxPages: number },
): Promise<FoundActivations<A>> {
  const items: A[] = [];
  const seen = new Set<string>();
  let scanned = 0;
  for (let page = 0; page < opts.maxPages; page++) {
    const list = await fetchPage(page * opts.pageSize, opts.pageSize);
    scanned += list.length;
    for (const a of list) {
      // New activations arriving between two pages shift the later page: skip what came twice.
      if (seen.has(a.activationId)) continue;
      seen.add(a.activationId);
      if (matches(a)) items.push(a);
    }
    if (list.length < opts.pageSize) return { items: newestFirst(items).slice(0, opts.want), scanned, complete: true };
    if (items.length >= opts.want) break;
  }
  return { items: newestFirst(items).slice(0, opts.want), scanned, complete: false };
}

const newestFirst = <A extends ActivationLike>(list: A[]): A[] => list.sort((a, b) => b.start - a.start);
