import { describe, expect, it } from 'vitest';
import { describeMessageBusContract } from './contract.js';
import { LocalMessageBus, type BusLogger } from './local.js';

function recordingLogger(): BusLogger & { lines: { obj: Record<string, unknown>; msg: string }[] } {
  const lines: { obj: Record<string, unknown>; msg: string }[] = [];
  return { lines, warn: (obj, msg) => void lines.push({ obj, msg }) };
}

describeMessageBusContract('local', async () => {
  const bus = new LocalMessageBus(recordingLogger());
  return { bus, cleanup: () => bus.close() };
});

const tick = (): Promise<void> => new Promise((r) => setTimeout(r, 10));

describe('LocalMessageBus', () => {
  it('logs a failing handler with topic and group', async () => {
    const logger = recordingLogger();
    const bus = new LocalMessageBus(logger);
    await bus.subscribe('t', 'g', async () => {
      throw new Error('nope');
    });
    await bus.publish('t', 'x');
    await tick();
    expect(logger.lines).toHaveLength(1);
    expect(logger.lines[0]!.obj).toMatchObject({ topic: 't', group: 'g' });
    expect((logger.lines[0]!.obj.err as Error).message).toBe('nope');
    await bus.close();
  });

  it('refuses publish and subscribe after close', async () => {
    const bus = new LocalMessageBus(recordingLogger());
    await bus.close();
    await expect(bus.publish('t', 'x')).rejects.toThrow(/closed/);
    await expect(bus.subscribe('t', 'g', async () => {})).rejects.toThrow(/closed/);
  });

  it('round-robins between the subscribers of a group', async () => {
    const bus = new LocalMessageBus(recordingLogger());
    const a: string[] = [];
    const b: string[] = [];
    await bus.subscribe('t', 'g', async (m) => void a.push(m.value.toString()));
    await bus.subscribe('t', 'g', async (m) => void b.push(m.value.toString()));
    for (let i = 0; i < 6; i++) await bus.publish('t', String(i));
    await tick();
    expect(a).toEqual(['0', '2', '4']);
    expect(b).toEqual(['1', '3', '5']);
    await bus.close();
  });

  it('hands a closing subscriber\'s queued messages to the rest of its group', async () => {
    const bus = new LocalMessageBus(recordingLogger());
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const slow: string[] = [];
    const fast: string[] = [];
    const slowSub = await bus.subscribe('t', 'g', async (m) => {
      slow.push(m.value.toString());
      await gate;
    });
    await bus.subscribe('t', 'g', async (m) => void fast.push(m.value.toString()));
    for (let i = 0; i < 6; i++) await bus.publish('t', String(i));
    await tick();
    const closing = slowSub.close();
    release();
    await closing;
    await tick();
    expect(slow).toEqual(['0']);
    expect([...fast].sort()).toEqual(['1', '2', '3', '4', '5']);
    await bus.close();
  });

  it('bounds the backlog of a group with no subscriber', async () => {
    const logger = recordingLogger();
    const bus = new LocalMessageBus(logger, { maxBacklog: 3 });
    const sub = await bus.subscribe('t', 'g', async () => {});
    await sub.close();
    for (let i = 0; i < 10; i++) await bus.publish('t', String(i));
    expect(logger.lines).toHaveLength(1);
    const seen: string[] = [];
    await bus.subscribe('t', 'g', async (m) => void seen.push(m.value.toString()));
    await tick();
    expect(seen).toEqual(['7', '8', '9']);
    await bus.close();
  });

  it('does not run a handler on the publisher\'s stack', async () => {
    const bus = new LocalMessageBus(recordingLogger());
    let ran = false;
    await bus.subscribe('t', 'g', async () => void (ran = true));
    const p = bus.publish('t', 'x');
    expect(ran).toBe(false);
    await p;
    await tick();
    expect(ran).toBe(true);
    await bus.close();
  });
});
