/**
 * The container pool: which container runs the next activation.
 *
 * The rule. Jobs are placed strictly in arrival order (a FIFO buffer; while it is not empty, newer jobs
 * queue behind older ones). For the job at the head, in order of preference:
 *   1. a warm container already initialised with the same action revision for the same invoking
 *      namespace, idle (ready, or paused and then resumed) — the cheapest run there is;
 *   2. a prewarmed stem cell of the same kind and memory size (then /init) — skips container start;
 *   3. a cold container, if the pool's memory budget has room for the action's memory limit;
 *   4. the same after evicting least-recently-used idle warm containers until the budget has room
 *      (stem cells are never evicted: they are the next cold start's shortcut);
 *   5. otherwise the job waits in the buffer until a running job finishes and frees a container or memory.
 * One exception to 2-4: when the only warm container for the job is busy collecting its last
 * activation's logs (its result is already out), the job waits for it rather than start cold.
 * Idle warm containers are paused after `pauseGraceMs` (no CPU while idle) and removed after
 * `idleTimeoutMs`. A container whose activation ended in a developer or whisk error is destroyed,
 * never reused. Stem cells are refilled as soon as one is taken.
 *
 * Worked example. Budget 1024 MB, actions of 256 MB, two stem cells of nodejs:20/256 MB (stem cells do
 * not count against the budget until taken). Invoke A: no warm container, takes stem cell #1 (256 MB
 * used), refill starts. Invoke B while A runs: takes stem cell #2 (512 MB). A finishes: its container
 * is ready, warm for A. Invoke A again: warm hit, no /init. Five more distinct actions arrive at once:
 * C and D start cold (1024 MB used), E, F, G wait in the buffer; when A's container idles and a job is
 * waiting, the head job evicts it (LRU) and starts cold.
 *
 * Caveats. Memory is accounted by the action's limit, not by what the container really uses, so the
 * budget is conservative. Stem cells only match an action of exactly their memory size. A paused
 * container that fails to resume is destroyed and the job runs elsewhere — the activation still runs
 * once.
 *
 * Intra-container concurrency. An action with `limits.concurrency` N > 1 may have up to N of its
 * activations in one container at once: a busy container of that action with a free slot is taken
 * before anything else (no memory is added: one container, one memory limit). When one of them fails
 * the container takes no more work and is removed once the others have finished.
 */
import { createHash } from 'node:crypto';
import http from 'node:http';
import type { Container, ContainerFactory } from '@whirl/core';
import { LogBuffer } from './logs.js';

export type ContainerState = 'starting' | 'prewarmed' | 'ready' | 'running' | 'paused' | 'removing';

export interface PooledContainer {
  readonly seq: number;
  readonly container: Container;
  readonly logs: LogBuffer;
  /**
   * Keep-alive connections to this container only. A shared agent pools sockets by host:port, and
   * Docker hands a removed container's published port to a new one: a pooled socket to the old
   * container would then be reused for the new one and fail as if the action had crashed.
   */
  readonly agent: http.Agent;
  readonly kind: string;
  readonly image: string;
  readonly memoryMB: number;
  state: ContainerState;
  /** `invokingNamespace|docId@rev` once initialised with an action. */
  warmKey?: string;
  initialized: boolean;
  /** The /init in flight, so that concurrent activations of a fresh container share it. */
  initializing?: Promise<boolean>;
  /** Activations running in it now, and how many it may run at once (the action's limits.concurrency). */
  active: number;
  maxConcurrency: number;
  /** An activation in it failed: take no more work, remove it when the last one ends. */
  doomed: boolean;
  /** Set by the runner once /run has answered and only log collection remains (a millisecond, usually). */
  finishing: boolean;
  lastUsed: number;
  pausing?: Promise<void>;
  timers: { pause?: NodeJS.Timeout; idle?: NodeJS.Timeout };
}

export interface PoolJob {
  warmKey: string;
  /** The action's limits.concurrency: how many of its activations one container may run at once. */
  maxConcurrency: number;
  kind: string;
  image: string;
  memoryMB: number;
  /** Container name suffix for cold starts (namespace and action), sanitised by the pool. */
  label: string;
  /** Runs the activation; resolves with whether the container may be reused. */
  run(c: PooledContainer, how: 'warm' | 'prewarm' | 'cold'): Promise<{ keep: boolean }>;
  /** No container could be provided (create failed). */
  fail(err: unknown): Promise<void>;
}

export interface StemCell {
  kind: string;
  image: string;
  memoryMB: number;
  count: number;
}

export interface PoolOptions {
  invokerId: string;
  /** Label value that marks this pool's containers (and only these) for clean-up. */
  owner: string;
  userMemoryMB: number;
  pauseGraceMs: number;
  idleTimeoutMs: number;
  stemCells: StemCell[];
  env: Record<string, string>;
  log: { info(o: object, m: string): void; warn(o: object, m: string): void };
}

export interface PoolStats {
  containers: number;
  prewarmed: number;
  busy: number;
  paused: number;
  usedMB: number;
  buffered: number;
}

export class ContainerPool {
  private readonly containers = new Set<PooledContainer>();
  private readonly buffer: PoolJob[] = [];
  private readonly running = new Set<Promise<void>>();
  private seq = 0;
  private closed = false;
  /** Memory of cold starts placed but whose container does not exist yet. */
  private reservedMB = 0;
  /** Cold starts in flight per warm key (actions with concurrency > 1 wait for them to share). */
  private readonly coldPending = new Map<string, number>();
  private prewarmStarting = new Map<string, number>();

  constructor(
    private readonly factory: ContainerFactory,
    private readonly opts: PoolOptions,
  ) {}

  private get ownerToken(): string {
    return createHash('sha256').update(this.opts.owner).digest('hex').slice(0, 6);
  }

  get labels(): Record<string, string> {
    return { 'whirl.invoker': this.opts.invokerId, 'whirl.owner': this.opts.owner };
  }

  submit(job: PoolJob): void {
    if (this.closed) {
      this.track(job.fail(new Error('the invoker is shutting down')));
      return;
    }
    this.buffer.push(job);
    this.drain();
  }

  stats(): PoolStats {
    let prewarmed = 0;
    let busy = 0;
    let paused = 0;
    for (const c of this.containers) {
      if (c.state === 'prewarmed') prewarmed++;
      else if (c.state === 'running' || c.state === 'starting') busy++;
      else if (c.state === 'paused') paused++;
    }
    return { containers: this.containers.size, prewarmed, busy, paused, usedMB: this.usedMB(), buffered: this.buffer.length };
  }

  /** Starts the configured stem cells that are missing. */
  prewarm(): void {
    if (this.closed) return;
    for (const cell of this.opts.stemCells) {
      const key = `${cell.kind}|${cell.memoryMB}`;
      const have = [...this.containers].filter((c) => c.state === 'prewarmed' && c.kind === cell.kind && c.memoryMB === cell.memoryMB).length;
      const starting = this.prewarmStarting.get(key) ?? 0;
      for (let i = have + starting; i < cell.count; i++) {
        this.prewarmStarting.set(key, (this.prewarmStarting.get(key) ?? 0) + 1);
        this.track(
          this.create(cell.kind, cell.image, cell.memoryMB, `prewarm_${cell.kind}`, 'prewarmed')
            .then(() => undefined)
            .catch((err: unknown) => this.opts.log.warn({ err, kind: cell.kind }, 'could not start a stem cell'))
            .finally(() => {
              this.prewarmStarting.set(key, (this.prewarmStarting.get(key) ?? 1) - 1);
              this.drain();
            }),
        );
      }
    }
  }

  /** Stops placing work, waits for running jobs (up to `graceMs`), removes every container. */
  async close(graceMs = 10_000): Promise<void> {
    this.closed = true;
    const waiting = this.buffer.splice(0);
    await Promise.all(waiting.map((j) => j.fail(new Error('the invoker shut down before the activation could run'))));
    await Promise.race([Promise.allSettled([...this.running]), new Promise((r) => setTimeout(r, graceMs).unref())]);
    await Promise.allSettled([...this.containers].map((c) => this.remove(c)));
  }

  private usedMB(): number {
    let used = this.reservedMB;
    for (const c of this.containers) if (c.state !== 'prewarmed' && c.state !== 'removing') used += c.memoryMB;
    return used;
  }

  private drain(): void {
    while (this.buffer.length > 0 && !this.closed) {
      const job = this.buffer[0]!;
      const placed = this.place(job);
      if (!placed) return;
      this.buffer.shift();
      this.track(this.execute(job, placed));
    }
  }

  private place(job: PoolJob): { c?: PooledContainer; how: 'warm' | 'prewarm' | 'cold' } | undefined {
    if (job.maxConcurrency > 1) {
      // A busy container of the same action with a free concurrency slot is the cheapest place of all.
      for (const c of this.containers) {
        if (c.warmKey === job.warmKey && c.state === 'running' && !c.doomed && c.active < c.maxConcurrency) {
          c.active++;
          return { c, how: 'warm' };
        }
      }
      // Its container is being made: wait for it and share it, rather than start another.
      if ((this.coldPending.get(job.warmKey) ?? 0) > 0) return undefined;
    }
    let warm: PooledContainer | undefined;
    for (const c of this.containers) {
      if (c.warmKey !== job.warmKey || (c.state !== 'ready' && c.state !== 'paused')) continue;
      // Prefer a running (unpaused) container, then the most recently used.
      if (!warm || (warm.state === 'paused' && c.state === 'ready') || (warm.state === c.state && c.lastUsed > warm.lastUsed)) warm = c;
    }
    if (warm) return this.claim(warm, 'warm');
    // A container of this action is only collecting the last activation's logs: waiting the moment
    // that takes beats a cold start (sequential callers send the next invoke as soon as they have
    // their result, which is before the logs are in).
    for (const c of this.containers) if (c.warmKey === job.warmKey && c.state === 'running' && c.finishing && c.maxConcurrency === 1) return undefined;
    const room = (): boolean => this.usedMB() + job.memoryMB <= this.opts.userMemoryMB;
    if (!room()) this.evictFor(job.memoryMB);
    if (!room()) return undefined;
    for (const c of this.containers) {
      if (c.state === 'prewarmed' && c.kind === job.kind && c.memoryMB === job.memoryMB) {
        const claimed = this.claim(c, 'prewarm');
        this.prewarm();
        return claimed;
      }
    }
    this.reservedMB += job.memoryMB;
    this.coldPending.set(job.warmKey, (this.coldPending.get(job.warmKey) ?? 0) + 1);
    return { how: 'cold' };
  }

  private claim(c: PooledContainer, how: 'warm' | 'prewarm'): { c: PooledContainer; how: 'warm' | 'prewarm' } {
    clearTimeout(c.timers.pause);
    clearTimeout(c.timers.idle);
    c.timers = {};
    const wasPaused = c.state === 'paused';
    c.state = 'running';
    c.active = 1;
    if (wasPaused) c.pausing = (c.pausing ?? Promise.resolve()).catch(() => undefined).then(() => c.container.resume());
    return { c, how };
  }

  /** Evicts idle warm containers, least recently used first, until `memoryMB` fits. */
  private evictFor(memoryMB: number): void {
    const idle = [...this.containers]
      .filter((c) => (c.state === 'ready' || c.state === 'paused') && c.warmKey !== undefined)
      .sort((a, b) => a.lastUsed - b.lastUsed);
    for (const c of idle) {
      if (this.usedMB() + memoryMB <= this.opts.userMemoryMB) return;
      this.opts.log.info({ container: c.container.name }, 'evicting idle container to make room');
      this.track(this.remove(c));
    }
  }

  private async execute(job: PoolJob, placed: { c?: PooledContainer; how: 'warm' | 'prewarm' | 'cold' }): Promise<void> {
    let c = placed.c;
    if (!c) {
      try {
        c = await this.create(job.kind, job.image, job.memoryMB, job.label, 'running');
        c.active = 1;
      } catch (err) {
        await job.fail(err);
        this.drain();
        return;
      } finally {
        this.reservedMB -= job.memoryMB;
        const pending = (this.coldPending.get(job.warmKey) ?? 1) - 1;
        if (pending <= 0) this.coldPending.delete(job.warmKey);
        else this.coldPending.set(job.warmKey, pending);
      }
    }
    try {
      if (c.pausing) {
        try {
          await c.pausing;
        } catch (err) {
          // Could not resume: drop the container and run the job elsewhere.
          this.opts.log.warn({ err, container: c.container.name }, 'resume failed; rescheduling');
          await this.remove(c);
          this.buffer.unshift(job);
          return;
        } finally {
          c.pausing = undefined;
        }
      }
      c.warmKey = job.warmKey;
      c.maxConcurrency = Math.max(1, job.maxConcurrency);
      // Jobs that queued while this container was being made may share it.
      if (c.maxConcurrency > 1) this.drain();
      const { keep } = await job.run(c, placed.how);
      if (!keep) c.doomed = true;
    } catch (err) {
      this.opts.log.warn({ err }, 'activation runner failed');
      c.doomed = true;
    } finally {
      c.active = Math.max(0, c.active - 1);
      if (c.active === 0) {
        if (c.doomed || this.closed) await this.remove(c);
        else this.release(c);
      }
      this.drain();
    }
  }

  private release(c: PooledContainer): void {
    c.state = 'ready';
    c.finishing = false;
    c.lastUsed = Date.now();
    c.timers.pause = setTimeout(() => {
      if (c.state !== 'ready') return;
      c.state = 'paused';
      c.pausing = c.container.pause();
      c.pausing.catch((err: unknown) => this.opts.log.warn({ err, container: c.container.name }, 'pause failed'));
    }, this.opts.pauseGraceMs);
    c.timers.pause.unref();
    c.timers.idle = setTimeout(() => {
      if (c.state === 'ready' || c.state === 'paused') this.track(this.remove(c));
    }, this.opts.idleTimeoutMs);
    c.timers.idle.unref();
  }

  private async create(kind: string, image: string, memoryMB: number, label: string, state: 'prewarmed' | 'running'): Promise<PooledContainer> {
    const seq = ++this.seq;
    // Names are global to the Docker daemon: a token of the owner keeps two deployments sharing one
    // daemon (a standalone and a distributed invoker0, say) from taking each other's names.
    const name = `whirl${this.opts.invokerId}_${this.ownerToken}_${seq}_${label}`.replace(/[^A-Za-z0-9_.-]/g, '');
    const container = await this.factory.create({ name, image, memoryMB, env: this.opts.env, labels: this.labels });
    const pc: PooledContainer = {
      seq,
      container,
      logs: new LogBuffer(container),
      agent: new http.Agent({ keepAlive: true, maxSockets: 256 }),
      kind,
      image,
      memoryMB,
      state,
      initialized: false,
      active: 0,
      maxConcurrency: 1,
      doomed: false,
      finishing: false,
      lastUsed: Date.now(),
      timers: {},
    };
    this.containers.add(pc);
    if (this.closed) {
      await this.remove(pc);
      throw new Error('the invoker is shutting down');
    }
    return pc;
  }

  private async remove(c: PooledContainer): Promise<void> {
    if (c.state === 'removing' && !this.containers.has(c)) return;
    c.state = 'removing';
    clearTimeout(c.timers.pause);
    clearTimeout(c.timers.idle);
    c.agent.destroy();
    try {
      await c.container.destroy();
    } catch (err) {
      this.opts.log.warn({ err, container: c.container.name }, 'could not remove container');
    } finally {
      this.containers.delete(c);
      this.drain();
    }
  }

  private track(p: Promise<void>): void {
    const t: Promise<void> = p
      .catch((err: unknown) => this.opts.log.warn({ err }, 'container pool task failed'))
      .finally(() => this.running.delete(t));
    this.running.add(t);
  }
}
