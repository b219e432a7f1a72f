import { describe, expect, it } from 'vitest';
import { CronError, nextCronTime, parseCron } from './cron.js';

const at = (iso: string): number => Date.parse(iso);
const iso = (ms: number | undefined): string | undefined => (ms === undefined ? undefined : new Date(ms).toISOString());

describe('parseCron', () => {
  it('accepts 5 and 6 fields, names, ranges, steps and lists', () => {
    expect(parseCron('*/5 * * * *').hasSeconds).toBe(false);
    expect(parseCron('*/1 * * * * *').hasSeconds).toBe(true);
    const s = parseCron('0 9-17/4 * JAN,jul MON-FRI');
    expect(s.hours.flatMap((v, i) => (v ? [i] : []))).toEqual([9, 13, 17]);
    expect(s.months.flatMap((v, i) => (v ? [i] : []))).toEqual([1, 7]);
    expect(s.dow.flatMap((v, i) => (v ? [i] : []))).toEqual([1, 2, 3, 4, 5]);
    expect(parseCron('0 0 * * 7').dow[0]).toBe(true);
  });

  it.each([
    ['', /0 fields/],
    ['* * * *', /4 fields/],
    ['* * * * * * *', /7 fields/],
    ['60 * * * *', /minute 60 is outside 0-59/],
    ['* 24 * * *', /hour 24/],
    ['* * 0 * *', /day of month 0/],
    ['* * * 13 *', /month 13/],
    ['*/0 * * * *', /step '0'/],
    ['5-1 * * * *', /runs backwards/],
    ['x * * * *', /'x' is not a valid minute/],
    ['1,,2 * * * *', /empty list item/],
  ])('rejects %j', (expr, msg) => {
    expect(() => parseCron(expr)).toThrow(CronError);
    expect(() => parseCron(expr)).toThrow(msg);
  });
});

describe('nextCronTime', () => {
  it('steps by seconds with a 6-field pattern', () => {
    const spec = parseCron('*/2 * * * * *');
    expect(iso(nextCronTime(spec, at('2030-01-01T00:00:00.500Z')))).toBe('2030-01-01T00:00:02.000Z');
    expect(iso(nextCronTime(spec, at('2030-01-01T00:00:02.000Z')))).toBe('2030-01-01T00:00:04.000Z');
  });

  it('fires at second 0 with 5 fields, strictly after the given time', () => {
    const spec = parseCron('30 9 * * *');
    expect(iso(nextCronTime(spec, at('2030-01-01T09:30:00.000Z')))).toBe('2030-01-02T09:30:00.000Z');
    expect(iso(nextCronTime(spec, at('2030-01-01T09:29:59.999Z')))).toBe('2030-01-01T09:30:00.000Z');
  });

  it('rolls over months and years', () => {
    expect(iso(nextCronTime(parseCron('0 0 1 1 *'), at('2030-06-15T12:00:00Z')))).toBe('2031-01-01T00:00:00.000Z');
    expect(iso(nextCronTime(parseCron('0 0 31 * *'), at('2030-02-01T00:00:00Z')))).toBe('2030-03-31T00:00:00.000Z');
  });

  it('ORs day-of-month and day-of-week when both are restricted', () => {
    // 2030-01-01 is a Tuesday. "the 15th or any Friday": Friday the 4th comes first.
    expect(iso(nextCronTime(parseCron('0 0 15 * FRI'), at('2030-01-01T00:00:00Z')))).toBe('2030-01-04T00:00:00.000Z');
    // With day-of-month unrestricted only the weekday counts.
    expect(iso(nextCronTime(parseCron('0 0 * * FRI'), at('2030-01-01T00:00:00Z')))).toBe('2030-01-04T00:00:00.000Z');
  });

  it('gives up on patterns that never match', () => {
    expect(nextCronTime(parseCron('0 0 30 2 *'), at('2030-01-01T00:00:00Z'))).toBeUndefined();
  });

  it('evaluates the pattern in a time zone', () => {
    // 09:00 in Berlin is 08:00 UTC in winter and 07:00 UTC in summer.
    const spec = parseCron('0 9 * * *');
    expect(iso(nextCronTime(spec, at('2030-01-10T00:00:00Z'), 'Europe/Berlin'))).toBe('2030-01-10T08:00:00.000Z');
    expect(iso(nextCronTime(spec, at('2030-07-10T00:00:00Z'), 'Europe/Berlin'))).toBe('2030-07-10T07:00:00.000Z');
    expect(iso(nextCronTime(spec, at('2030-01-10T00:00:00Z'), 'America/New_York'))).toBe('2030-01-10T14:00:00.000Z');
  });

  it('skips wall times that do not exist on a DST spring-forward day', () => {
    // Europe/Berlin 2030-03-31: 02:00 jumps to 03:00, so 02:30 does not exist that day.
    const spec = parseCron('30 2 * * *');
    expect(iso(nextCronTime(spec, at('2030-03-30T12:00:00Z'), 'Europe/Berlin'))).toBe('2030-04-01T00:30:00.000Z');
  });

  it('fires a repeated wall time only once on a DST fall-back day, like cron', () => {
    // Europe/Berlin 2030-10-27: 03:00 falls back to 02:00; 02:30 happens at 00:30Z and again at 01:30Z.
    const spec = parseCron('30 2 * * *');
    const first = nextCronTime(spec, at('2030-10-26T12:00:00Z'), 'Europe/Berlin');
    expect(iso(first)).toBe('2030-10-27T00:30:00.000Z');
    expect(iso(nextCronTime(spec, first!, 'Europe/Berlin'))).toBe('2030-10-28T01:30:00.000Z');
  });
});
