import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import pino from 'pino';
import { Topics, lostActivationRecord, newActivationId, type ActivationMessage } from '@whirl/core';
import { LocalMessageBus } from '@whirl/messaging';
import { openSqliteStores, type SqliteStores } from '@whirl/store';
import { ActivationLedger, HEALTH_TEST_TRANSID, LedgerJournal } from './ledger.js';

const log = pino({ level: 'silent' });

function message(o: Partial<ActivationMessage> = {}): ActivationMessage {
  return {
    v: 1,
    transid: 't',
    activationId: newActivationId(),
    received: Date.now(),
    deadline: Date.now() + 60_000,
    controller: '0',
    blocking: false,
    user: { subject: 'guest', namespace: 'guest', uuid: 'u', apiKey: 'k' },
    action: { docId: 'guest/hello', rev: '1', path: 'guest', name: 'hello', version: '0.0.1' },
    content: {},
    initArgs: [],
    timeoutMs: 1_000,
    ...o,
  };
}

async function until(check: () => Promise<boolean>, ms = 5_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('activation ledger', () => {
  let bus: LocalMessageBus;
  let stores: SqliteStores;
  const ledgers: ActivationLedger[] = [];
  const ledger = (ackMs = 200): ActivationLedger => {
    const l = new ActivationLedger({ bus, activations: stores.activations, log, ackTimeoutMs: () => ackMs, graceMs: 0 });
    ledgers.push(l);
    return l;
  };

  beforeEach(async () => {
    bus = new LocalMessageBus();
    stores = openSqliteStores(':memory:');
    await bus.ensureTopics([Topics.invoker('0'), Topics.invoker('1'), Topics.compositions]);
  });
  afterEach(async () => {
    for (const l of ledgers.splice(0)) await l.close();
    await bus.close();
    await stores.close();
  });

  it('writes a failed record for an overdue activation that has none, and nothing for one that has', async () => {
    const l = ledger();
    l.watch([0, 1]);
    const lost = message();
    const done = message({ action: { docId: 'guest/other', rev: '1', path: 'guest', name: 'other', version: '0.0.2' } });
    await bus.publish(Topics.invoker('0'), { object: lost });
    await bus.publish(Topics.invoker('1'), { object: done });
    // The invoker of `done` stores its record in time.
    const stored = lostActivationRecord({ activationId: done.activationId, received: done.received, namespace: 'guest', subject: 'guest', path: 'guest', name: 'other', version: '0.0.2' }, Date.now());
    await stores.activations.put([{ ...stored, response: { ...stored.response, statusCode: 0, result: { ok: true } } }]);
    await until(async () => (await stores.activations.get('guest', lost.activationId)) !== undefined);
    const rec = (await stores.activations.get('guest', lost.activationId))!;
    expect(rec.name).toBe('hello');
    expect(rec.response.statusCode).toBe(3);
    expect(JSON.stringify(rec.response.result)).toMatch(/did not complete/);
    await new Promise((r) => setTimeout(r, 300));
    expect((await stores.activations.get('guest', done.activationId))!.response.result).toEqual({ ok: true });
  });

  it('owes nothing for health tests and for successful blocking activations that are not stored', async () => {
    const l = ledger(50);
    l.watch([0]);
    const health = message({ transid: HEALTH_TEST_TRANSID });
    const unstored = message({ blocking: true, store: { skipSuccessfulBlocking: true } });
    const owed = message();
    for (const m of [health, unstored, owed]) await bus.publish(Topics.invoker('0'), { object: m });
    await until(async () => (await stores.activations.get('guest', owed.activationId)) !== undefined);
    await new Promise((r) => setTimeout(r, 200));
    expect(await stores.activations.get('guest', health.activationId)).toBeUndefined();
    expect(await stores.activations.get('guest', unstored.activationId)).toBeUndefined();
  });

  it('checks many overdue activations with one store query per batch', async () => {
    const l = ledger(100);
    let queries = 0;
    const missing = stores.activations.missing.bind(stores.activations);
    stores.activations.missing = async (keys) => (queries++, missing(keys));
    l.watch([0]);
    const msgs = Array.from({ length: 300 }, () => message());
    for (const m of msgs) await bus.publish(Topics.invoker('0'), { object: m });
    await until(async () => (await missing(msgs.map((m) => ({ namespace: 'guest', activationId: m.activationId })))).length === 0);
    expect(queries).toBeLessThanOrEqual(6);
  });

  it('records a composition whose controller never stored it, from the note its journal wrote, and not one that ended', async () => {
    ledger().watch([]);
    await new Promise((r) => setTimeout(r, 50));
    const journal = new LedgerJournal(bus, 300);
    const entry = (name: string) => ({ namespace: 'guest', activationId: newActivationId(), received: Date.now(), subject: 'guest', path: 'guest', name, version: '0.0.1' });
    const lost = entry('seq');
    const ended = entry('seq2');
    await journal.begin(lost);
    await journal.begin(ended);
    // The second composition ends and stores its record (as Compositions does), before the note is due.
    const rec = lostActivationRecord(ended, Date.now());
    await stores.activations.put([{ ...rec, response: { ...rec.response, statusCode: 0, result: { done: true } } }]);
    await journal.end();
    await until(async () => (await stores.activations.get('guest', lost.activationId)) !== undefined);
    expect((await stores.activations.get('guest', lost.activationId))!.name).toBe('seq');
    await new Promise((r) => setTimeout(r, 300));
    expect((await stores.activations.get('guest', ended.activationId))!.response.result).toEqual({ done: true });
  });

  it('leaves what it held to the next ledger of the group when it closes before they are due', async () => {
    const first = ledger(600);
    first.watch([0]);
    const m = message();
    await bus.publish(Topics.invoker('0'), { object: m });
    await new Promise((r) => setTimeout(r, 100));
    await first.close();
    await new Promise((r) => setTimeout(r, 700));
    expect(await stores.activations.get('guest', m.activationId)).toBeUndefined();
    // Another controller's ledger (same group) gets the unsettled message and records it.
    ledger(600).watch([0]);
    await until(async () => (await stores.activations.get('guest', m.activationId)) !== undefined);
  });
});
