/**
 * A small cron implementation for the alarms feed: 5 fields (minute hour day-of-month month
 * day-of-week) or 6 with a leading seconds field, evaluated in an IANA time zone via Intl.
 *
 * Field syntax: `*`, `?`, `n`, `a-b`, `*\/s`, `a-b/s`, `a/s` and comma lists; month and weekday names
 * (JAN..DEC, SUN..SAT); weekday 7 is Sunday. As in Vixie cron, when both day-of-month and day-of-week
 * are restricted a day matches if EITHER matches; a field starting with `*` counts as unrestricted.
 */

export class CronError extends Error {}

export interface CronSpec {
  source: string;
  hasSeconds: boolean;
  seconds: boolean[];
  minutes: boolean[];
  hours: boolean[];
  /** Index 1..31. */
  dom: boolean[];
  /** Index 1..12. */
  months: boolean[];
  /** Index 0..6, Sunday = 0. */
  dow: boolean[];
  domStar: boolean;
  dowStar: boolean;
}

const MONTHS = ['JAN', 'FEB', 'MAR', 'APR', 'MAY', 'JUN', 'JUL', 'AUG', 'SEP', 'OCT', 'NOV', 'DEC'];
const DAYS = ['SUN', 'MON', 'TUE', 'WED', 'THU', 'FRI', 'SAT'];

interface FieldDef {
  name: string;
  min: number;
  max: number;
  names?: string[];
  /** Value of names[0]. */
  nameBase?: number;
}

const FIELDS: Record<'second' | 'minute' | 'hour' | 'dom' | 'month' | 'dow', FieldDef> = {
  second: { name: 'second', min: 0, max: 59 },
  minute: { name: 'minute', min: 0, max: 59 },
  hour: { name: 'hour', min: 0, max: 23 },
  dom: { name: 'day of month', min: 1, max: 31 },
  month: { name: 'month', min: 1, max: 12, names: MONTHS, nameBase: 1 },
  dow: { name: 'day of week', min: 0, max: 7, names: DAYS, nameBase: 0 },
};

function parseValue(text: string, f: FieldDef): number {
  const upper = text.toUpperCase();
  if (f.names) {
    const i = f.names.indexOf(upper);
    if (i >= 0) return i + (f.nameBase ?? 0);
  }
  if (!/^\d+$/.test(text)) throw new CronError(`'${text}' is not a valid ${f.name}`);
  const n = Number(text);
  if (n < f.min || n > f.max) throw new CronError(`${f.name} ${n} is outside ${f.min}-${f.max}`);
  return n;
}

function parseField(text: string, f: FieldDef): boolean[] {
  const out = new Array<boolean>(f.max + 1).fill(false);
  for (const item of text.split(',')) {
    if (item === '') throw new CronError(`empty list item in the ${f.name} field`);
    const [range, stepText, extra] = item.split('/');
    if (extra !== undefined) throw new CronError(`'${item}' has more than one step`);
    let step = 1;
    if (stepText !== undefined) {
      if (!/^\d+$/.test(stepText) || Number(stepText) === 0) throw new CronError(`step '${stepText}' in the ${f.name} field must be a positive integer`);
      step = Number(stepText);
    }
    let lo: number;
    let hi: number;
    if (range === '*' || range === '?') {
      lo = f.min;
      hi = f.max === 7 ? 6 : f.max;
    } else if (range!.includes('-')) {
      const [a, b, more] = range!.split('-');
      if (more !== undefined || a === undefined || b === undefined) throw new CronError(`'${range}' is not a valid range`);
      lo = parseValue(a, f);
      hi = parseValue(b, f);
      if (hi < lo) throw new CronError(`range '${range}' in the ${f.name} field runs backwards`);
    } else {
      lo = parseValue(range!, f);
      // `a/s` means from a to the end of the field.
      hi = stepText !== undefined ? f.max : lo;
    }
    for (let v = lo; v <= hi; v += step) out[v] = true;
  }
  return out;
}

export function parseCron(expr: string): CronSpec {
  if (typeof expr !== 'string') throw new CronError('the pattern must be a string');
  const parts = expr.trim().split(/\s+/);
  if (parts.length !== 5 && parts.length !== 6) {
    throw new CronError(`it has ${parts.length === 1 && parts[0] === '' ? 0 : parts.length} fields; use 5 (minute hour day month weekday) or 6 (second minute hour day month weekday)`);
  }
  const hasSeconds = parts.length === 6;
  const [sec, min, hour, dom, month, dow] = hasSeconds ? parts : ['0', ...parts];
  const dowField = parseField(dow!, FIELDS.dow);
  if (dowField[7]) dowField[0] = true;
  return {
    source: expr,
    hasSeconds,
    seconds: parseField(sec!, FIELDS.second),
    minutes: parseField(min!, FIELDS.minute),
    hours: parseField(hour!, FIELDS.hour),
    dom: parseField(dom!, FIELDS.dom),
    months: parseField(month!, FIELDS.month),
    dow: dowField.slice(0, 7),
    domStar: dom!.startsWith('*') || dom === '?',
    dowStar: dow!.startsWith('*') || dow === '?',
  };
}

const formatters = new Map<string, Intl.DateTimeFormat>();

function formatter(tz: string): Intl.DateTimeFormat {
  let f = formatters.get(tz);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone: tz,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
    });
    formatters.set(tz, f);
  }
  return f;
}

/** True when Intl knows the zone. */
export function isValidTimeZone(tz: string): boolean {
  try {
    formatter(tz);
    return true;
  } catch {
    return false;
  }
}

/** The wall-clock time of `epoch` in `tz`, expressed as if it were UTC (whole seconds). */
export function wallClock(epoch: number, tz: string): number {
  const p: Record<string, number> = {};
  for (const part of formatter(tz).formatToParts(new Date(epoch))) {
    if (part.type !== 'literal') p[part.type] = Number(part.value);
  }
  return Date.UTC(p.year!, p.month! - 1, p.day!, p.hour! % 24, p.minute!, p.second!);
}

/** Every instant whose wall clock in `tz` is `wall` (none in a DST gap, two in a DST overlap), ascending. */
function instantsOf(wall: number, tz: string): number[] {
  const out = new Set<number>();
  for (const probe of [wall - 86_400_000, wall, wall + 86_400_000]) {
    const offset = wallClock(probe, tz) - Math.floor(probe / 1000) * 1000;
    const candidate = wall - offset;
    if (wallClock(candidate, tz) === wall) out.add(candidate);
  }
  return [...out].sort((a, b) => a - b);
}

/** How far ahead to look before deciding a pattern never matches (e.g. `0 0 30 2 *`). */
const HORIZON_MS = 5 * 366 * 86_400_000;

/** The first instant strictly after `after` that matches `spec` in zone `tz`, or undefined if none within 5 years. */
export function nextCronTime(spec: CronSpec, after: number, tz = 'UTC'): number | undefined {
  const startWall = wallClock(after, tz);
  let t = startWall + 1000;
  const limit = startWall + HORIZON_MS;
  while (t <= limit) {
    const d = new Date(t);
    const y = d.getUTCFullYear();
    const mo = d.getUTCMonth();
    const day = d.getUTCDate();
    const h = d.getUTCHours();
    const mi = d.getUTCMinutes();
    const s = d.getUTCSeconds();
    if (!spec.months[mo + 1]) {
      t = Date.UTC(y, mo + 1, 1);
      continue;
    }
    const domOk = spec.dom[day] === true;
    const dowOk = spec.dow[d.getUTCDay()] === true;
    const dayOk = spec.domStar || spec.dowStar ? domOk && dowOk : domOk || dowOk;
    if (!dayOk) {
      t = Date.UTC(y, mo, day + 1);
      continue;
    }
    if (!spec.hours[h]) {
      t = Date.UTC(y, mo, day, h + 1);
      continue;
    }
    if (!spec.minutes[mi]) {
      t = Date.UTC(y, mo, day, h, mi + 1);
      continue;
    }
    if (!spec.seconds[s]) {
      t = Date.UTC(y, mo, day, h, mi, s + 1);
      continue;
    }
    const hit = instantsOf(t, tz).find((e) => e > after);
    if (hit !== undefined) return hit;
    t += 1000;
  }
  return undefined;
}
