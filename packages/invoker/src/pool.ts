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
 * Idle warm containers are paused after `pauseGraceMs` (no CPU while idle). How long they are kept
 * is the keep-alive policy's call (keepalive.ts), made each time an activation ends:
 *   - `fixed`: remove the container after `idleTimeoutMs`;
 *   - `hybrid`: from the action's idle-time histogram, either keep it for a keep-alive window, or
 *     unload it at once and load it again (create + /init, state `warming`) a lead time before its
 *     prewarm window opens (the measured load time's mean plus four mean deviations: a load on a busy
 *     host that takes twice its usual time still ends before the call), then keep it for the
 *     keep-alive window; when the prewarm window is no longer than the lead, keep it loaded instead.
 *     A load ahead never evicts and never runs while jobs wait: it only uses memory nobody needs
 *     now. A call that arrives before its load cancels it (and is a cold start, as it would have
 *     been anyway). The windows are for one container of the action: one that goes idle while
 *     another of the action's is already idle (made for concurrent calls) is kept only the
 *     decision's surplus window.
 * A container whose activation ended in a developer or whisk error is destroyed, never reused. A
 * taken stem cell is refilled as soon as its activation has answered (at most a second later): a
 * container start beside the taken cell's /init and /run would compete with them for the CPU. A kind
 * with a `reactive` configuration keeps `increment × ⌊cold starts in the last ttl / threshold⌋` of
 * them (within minCount..maxCount, and initialCount during the first ttl), counting the cold starts
 * no stem cell could serve, and removes the ones unused for a ttl beyond that count.
 *
 * Worked example. Budget 1024 MB, actions of 256 MB, two stem cells of nodejs:20/256 MB (stem cells do
 * not count against the budget until taken). Invoke A: no warm container, takes stem cell #1 (256 MB
 * used); its refill starts once A has answered. Invoke B while A runs: takes stem cell #2 (512 MB).
 * A finishes: its container is ready, warm for A. Invoke A again: warm hit, no /init. Five more
 * distinct actions arrive at once: C and D start cold (1024 MB used), E, F, G wait in the buffer;
 * when A's container idles and a job is waiting, the head job evicts it (LRU) and starts cold.
 *
 * Worked example, hybrid keep-alive. Action T is a timer firing every 10 minutes, running 1 s. After
 * five idle times of 9 min 59 s (all in histogram bin 9), each end yields prewarm window 8.1 min
 * (9 × 0.9) and keep-alive window 2.9 min (10 × 1.1 − 8.1). Loading takes 300 ms here, so the pool
 * removes T's container as the run ends, starts loading one at 8.1 min − 300 ms, and keeps it until
 * 11 min: the next call at 10 min is warm, and T held memory for 2.9 of every 10 minutes instead of
 * all of them. The fixed rule would keep it the whole time (10 min idle timeout > period).
 *
 * Caveats. Memory is accounted by the action's limit, not by what the container really uses, so the
 * budget is conservative. Stem cells only match an action of exactly their memory size. A paused
 * container that fails to resume is destroyed and the job runs elsewhere — the activation still runs
 * once. The hybrid policy learns per action and invoking namespace, across revisions (a deploy does
 * not change when the action's callers call), and its learning outlives a restart when the invoker
 * has a state file; a load ahead prepares the revision last called, so the first call after a deploy
 * is cold all the same. Its histogram has one-minute resolution, so actions called more often than
 * that are simply kept loaded; and a load ahead that is wrong costs a container
 * start and its keep-alive window of memory, nothing else (the call is cold, as it was without it).
 *
 * Intra-container concurrency. An action with `limits.concurrency` N > 1 may have up to N of its
 * activations in one container at once: a busy container of that action with a free slot is taken
 * before anything else (no memory is added: one container, one memory limit). When one of them fails
 * the container takes no more work and is removed once the others have finished.
 */
import { createHash } from 'node:crypto';
import type http from 'node:http';
import { containerAgent } from './factory/http.js';
import type { Container, ContainerFactory } from '@whirl/core';
import { FixedKeepAlive, ReactiveStemCells, keepAlivePlan, type KeepAliveDecision, type KeepAlivePolicy, type PolicySnapshot, type ReactiveConfig } from './keepalive.js';
import { LogBuffer } from './logs.js';

/**
 * A container's life, owned by the pool: every change of state goes through `transition`, which
 * checks it against this table and logs it at debug level. `warming`: being created and /init-ed for
 * an action ahead of its expected next call.
 */
export type ContainerState = 'prewarmed' | 'warming' | 'ready' | 'running' | 'paused' | 'removing';

const allowedTransitions: Record<ContainerState, readonly ContainerState[]> = {
  prewarmed: ['running', 'removing'],
  warming: ['ready', 'removing'],
  running: ['ready', 'removing'],
  ready: ['running', 'paused', 'removing'],
  paused: ['running', 'removing'],
  // Removal may be asked for again while the container is being destroyed.
  removing: ['removing'],
};

/**
 * What a job's runner sees of a container: read-only, so that its state changes only through the
 * pool (`initialize`, `resultOut`) and the pool's accounting cannot be bypassed.
 */
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
  readonly state: ContainerState;
  /** `invokingNamespace|docId@rev` once initialised with an action. */
  readonly warmKey?: string;
  /** /init has succeeded in it. */
  readonly initialized: boolean;
  /** Activations running in it now, and how many it may run at once (the action's limits.concurrency). */
  readonly active: number;
  readonly maxConcurrency: number;
  /** Activations started in it so far (tells an activation whether another overlapped it). */
  readonly runs: number;
}

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

/** The pool's own view of a container. */
interface Entry extends Mutable<PooledContainer> {
  /** The /init in flight, so that concurrent activations of a fresh container share it. */
  initializing?: Promise<boolean>;
  /** An activation in it failed: take no more work, remove it when the last one ends. */
  doomed: boolean;
  /** Its runner's result is out and only log collection remains (a millisecond, usually). */
  finishing: boolean;
  lastUsed: number;
  createdAt: number;
  pausing?: Promise<void>;
  timers: { pause?: NodeJS.Timeout; idle?: NodeJS.Timeout };
  /** Taken from the stem cells: their refill waits for this container's first answer (`refillFor`). */
  refill?: NodeJS.Timeout;
}

/** The longest a taken stem cell's replacement waits for the activation it serves to answer. */
const stemRefillCapMs = 1_000;

export interface PoolJob {
  warmKey: string;
  /** What the keep-alive policy learns under (`invokingNamespace|docId`, no revision). @default warmKey */
  policyKey?: string;
  /** The action's limits.concurrency: how many of its activations one container may run at once. */
  maxConcurrency: number;
  kind: string;
  image: string;
  memoryMB: number;
  /** Container name suffix for cold starts (namespace and action), sanitised by the pool. */
  label: string;
  /**
   * Runs the activation; resolves with whether the container may be reused. `coldBecause` says, for
   * a cold start, whether containers of the action existed but were all busy.
   */
  run(c: PooledContainer, how: 'warm' | 'prewarm' | 'cold', coldBecause?: 'no_warm' | 'warm_busy'): Promise<{ keep: boolean }>;
  /** No container could be provided (create failed). */
  fail(err: unknown): Promise<void>;
  /**
   * Initialises a fresh container with this job's action, without running it (for a container loaded
   * ahead of the action's next expected call); resolves with whether /init succeeded. Without it the
   * pool never unloads a container to load it again later.
   */
  prepare?(c: PooledContainer): Promise<boolean>;
}

interface Placement {
  c?: Entry;
  how: 'warm' | 'prewarm' | 'cold';
  coldBecause?: 'no_warm' | 'warm_busy';
}

export interface StemCell {
  kind: string;
  image: string;
  memoryMB: number;
  /** Stem cells kept (OpenWhisk's initialCount). */
  count: number;
  /** Grow with cold starts of this kind, shrink when unused (OpenWhisk's reactive prewarm config). */
  reactive?: ReactiveConfig;
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
  /** Decides keep-alive and prewarm windows. @default the fixed rule with `idleTimeoutMs` */
  keepAlive?: KeepAlivePolicy;
  /** The clock the policy is driven with. @default Date.now */
  now?: () => number;
  log: { info(o: object, m: string): void; warn(o: object, m: string): void; debug?(o: object, m: string): void };
}

/** What the pool's policies decided, for logs and a metrics endpoint. */
export interface PoolPolicySnapshot extends PolicySnapshot {
  /** Measured time to load a container (create + /init); prewarms start this early. */
  leadMs: number;
  stemCells: { kind: string; memoryMB: number; target: number; have: number }[];
}

export interface PoolStats {
  containers: number;
  /** Idle, initialised and not paused. */
  warm: number;
  prewarmed: number;
  busy: number;
  paused: number;
  /** Being loaded for an action ahead of its next expected call. */
  warming: number;
  usedMB: number;
  buffered: number;
}

/** What the keep-alive policy learns under: the action, across its revisions (its callers do not change with a deploy). */
function policyKeyOf(job: PoolJob): string {
  return job.policyKey ?? job.warmKey;
}

export class ContainerPool {
  private readonly containers = new Set<Entry>();
  private readonly buffer: PoolJob[] = [];
  private readonly running = new Set<Promise<void>>();
  private seq = 0;
  private closed = false;
  /** Memory of cold starts placed but whose container does not exist yet. */
  private reservedMB = 0;
  /** Cold starts in flight per warm key (actions with concurrency > 1 wait for them to share). */
  private readonly coldPending = new Map<string, number>();
  private prewarmStarting = new Map<string, number>();
  private readonly policy: KeepAlivePolicy;
  private readonly now: () => number;
  /** Loads scheduled ahead of an action's next expected call, by warm key. */
  private readonly scheduled = new Map<string, NodeJS.Timeout>();
  private readonly reactive = new Map<string, ReactiveStemCells>();
  private readonly startedAt: number;
  private stemTimer: NodeJS.Timeout | undefined;
  /** Container create and /init-ahead times: the lead a prewarm needs. */
  private readonly createTime = new LoadTime();
  private readonly prepareTime = new LoadTime();
  private readonly logged = new Map<string, string>();

  constructor(
    private readonly factory: ContainerFactory,
    private readonly opts: PoolOptions,
  ) {
    this.policy = opts.keepAlive ?? new FixedKeepAlive(opts.idleTimeoutMs);
    this.now = opts.now ?? Date.now;
    this.startedAt = this.now();
    for (const cell of opts.stemCells) if (cell.reactive) this.reactive.set(cellKey(cell.kind, cell.memoryMB), new ReactiveStemCells(cell.reactive));
    const ttls = opts.stemCells.flatMap((c) => (c.reactive ? [c.reactive.ttlMs] : []));
    if (ttls.length > 0) {
      this.stemTimer = setInterval(() => this.adjustStemCells(), Math.max(1_000, Math.min(...ttls) / 2));
      this.stemTimer.unref();
    }
  }

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
    this.policy.arrived(policyKeyOf(job), this.now());
    // The call came before its container was loaded again: it gets one now, the load is moot.
    clearTimeout(this.scheduled.get(job.warmKey));
    this.scheduled.delete(job.warmKey);
    this.buffer.push(job);
    this.drain();
  }

  /** The keep-alive policy's current windows per action, the prewarm lead and the stem-cell targets. */
  policySnapshot(): PoolPolicySnapshot {
    const now = this.now();
    return {
      ...this.policy.snapshot(),
      leadMs: Math.round(this.leadMs()),
      stemCells: this.opts.stemCells.map((cell) => ({
        kind: cell.kind,
        memoryMB: cell.memoryMB,
        target: this.stemTarget(cell, now),
        have: [...this.containers].filter((c) => c.state === 'prewarmed' && c.kind === cell.kind && c.memoryMB === cell.memoryMB).length,
      })),
    };
  }

  stats(): PoolStats {
    let prewarmed = 0;
    let busy = 0;
    let paused = 0;
    let warming = 0;
    let warm = 0;
    for (const c of this.containers) {
      if (c.state === 'warming') warming++;
      if (c.state === 'prewarmed') prewarmed++;
      else if (c.state === 'ready') warm++;
      else if (c.state === 'running') busy++;
      else if (c.state === 'paused') paused++;
    }
    return { containers: this.containers.size, warm, prewarmed, warming, busy, paused, usedMB: this.usedMB(), buffered: this.buffer.length };
  }

  /**
   * Runs `init` (the container's /init) once per container: concurrent activations of a fresh
   * container share the one in flight instead of sending their own. `mine` tells the caller whether
   * the outcome it gets is its own init's (whose failure it reports) or another activation's.
   */
  async initialize<T extends { ok: boolean }>(pc: PooledContainer, init: () => Promise<T>): Promise<{ mine: true; outcome: T } | { mine: false; ok: boolean }> {
    const c = this.entry(pc);
    if (c.initialized) return { mine: false, ok: true };
    if (c.initializing) return { mine: false, ok: await c.initializing };
    const running = init();
    c.initializing = running.then(
      (r) => r.ok,
      () => false,
    );
    try {
      const outcome = await running;
      if (outcome.ok) c.initialized = true;
      return { mine: true, outcome };
    } finally {
      c.initializing = undefined;
    }
  }

  /**
   * The runner's result is out and only its logs remain to be collected: a job for the same action
   * waits this moment out rather than start a container of its own (see `place`).
   */
  resultOut(pc: PooledContainer): void {
    const c = this.entry(pc);
    c.finishing = true;
    this.refillFor(c);
  }

  /** Starts the replacement of the stem cell `c` was, if that has not happened yet. */
  private refillFor(c: Entry): void {
    if (c.refill === undefined) return;
    clearTimeout(c.refill);
    c.refill = undefined;
    this.prewarm();
  }

  /** Every PooledContainer a runner holds is one of this pool's entries, handed out read-only. */
  private entry(pc: PooledContainer): Entry {
    return pc as Entry;
  }

  /** The one place a container's state changes: checked against the table, logged at debug. */
  private transition(c: Entry, to: ContainerState): void {
    if (!allowedTransitions[c.state].includes(to)) throw new Error(`container ${c.container.name}: no transition from ${c.state} to ${to}`);
    if (c.state !== to) this.opts.log.debug?.({ container: c.container.name, from: c.state, to }, 'container state');
    c.state = to;
  }

  /** Starts the configured stem cells that are missing. */
  prewarm(): void {
    if (this.closed) return;
    const now = this.now();
    for (const cell of this.opts.stemCells) {
      const key = cellKey(cell.kind, cell.memoryMB);
      const have = [...this.containers].filter((c) => c.state === 'prewarmed' && c.kind === cell.kind && c.memoryMB === cell.memoryMB).length;
      const starting = this.prewarmStarting.get(key) ?? 0;
      for (let i = have + starting; i < this.stemTarget(cell, now); i++) {
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
    clearInterval(this.stemTimer);
    for (const t of this.scheduled.values()) clearTimeout(t);
    this.scheduled.clear();
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

  private place(job: PoolJob): Placement | undefined {
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
    let warm: Entry | undefined;
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
        // Its replacement starts once this activation has answered (or after a second, for a long
        // one): a container start beside its /init and /run would slow the very call it serves.
        c.refill = setTimeout(() => this.refillFor(c), stemRefillCapMs);
        c.refill.unref();
        return claimed;
      }
    }
    const reactive = this.reactive.get(cellKey(job.kind, job.memoryMB));
    if (reactive) {
      // A cold start a stem cell would have saved: the reactive rule may want more of them.
      reactive.coldStart(this.now());
      this.prewarm();
    }
    this.reservedMB += job.memoryMB;
    this.coldPending.set(job.warmKey, (this.coldPending.get(job.warmKey) ?? 0) + 1);
    const busy = [...this.containers].some((c) => c.warmKey === job.warmKey && c.state !== 'removing');
    return { how: 'cold', coldBecause: busy ? 'warm_busy' : 'no_warm' };
  }

  private claim(c: Entry, how: 'warm' | 'prewarm'): { c: Entry; how: 'warm' | 'prewarm' } {
    clearTimeout(c.timers.pause);
    clearTimeout(c.timers.idle);
    c.timers = {};
    const wasPaused = c.state === 'paused';
    this.transition(c, 'running');
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

  private async execute(job: PoolJob, placed: Placement): Promise<void> {
    let c = placed.c;
    if (!c) {
      try {
        c = await this.create(job.kind, job.image, job.memoryMB, job.label, 'running');
        c.active = 1;
      } catch (err) {
        this.policy.ended(policyKeyOf(job), this.now());
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
    let rescheduled = false;
    try {
      if (c.pausing) {
        try {
          await c.pausing;
        } catch (err) {
          // Could not resume: drop the container and run the job elsewhere.
          this.opts.log.warn({ err, container: c.container.name }, 'resume failed; rescheduling');
          await this.remove(c);
          this.buffer.unshift(job);
          rescheduled = true;
          return;
        } finally {
          c.pausing = undefined;
        }
      }
      c.warmKey = job.warmKey;
      c.maxConcurrency = Math.max(1, job.maxConcurrency);
      // Jobs that queued while this container was being made may share it.
      if (c.maxConcurrency > 1) this.drain();
      c.runs++;
      const { keep } = await job.run(c, placed.how, placed.coldBecause);
      if (!keep) c.doomed = true;
    } catch (err) {
      this.opts.log.warn({ err }, 'activation runner failed');
      c.doomed = true;
    } finally {
      this.refillFor(c);
      c.active = Math.max(0, c.active - 1);
      const decision = rescheduled ? undefined : this.policy.ended(policyKeyOf(job), this.now());
      if (c.active === 0 && c.state !== 'removing') {
        if (c.doomed || this.closed || !decision) await this.remove(c);
        else this.release(c, job, decision);
      }
      this.drain();
    }
  }

  /** Carries out the policy's decision for a container whose last activation has ended. */
  private release(c: Entry, job: PoolJob, decision: KeepAliveDecision): void {
    let surplus = false;
    for (const o of this.containers) if (o !== c && o.warmKey === job.warmKey && (o.state === 'ready' || o.state === 'paused' || o.state === 'warming')) surplus = true;
    const plan = keepAlivePlan(decision, this.leadMs(), surplus);
    this.logDecision(policyKeyOf(job), decision);
    if (plan.loadAfterMs !== undefined && job.prepare) {
      this.track(this.remove(c));
      this.schedulePrewarm(job, plan.loadAfterMs, plan.keepLoadedMs);
      return;
    }
    // Without a way to load it again, keep it through the prewarm window instead.
    this.keepIdle(c, plan.loadAfterMs !== undefined ? (decision.prewarmAfterMs ?? 0) + decision.keepAliveMs : plan.removeAfterMs);
  }

  private keepIdle(c: Entry, keepMs: number): void {
    this.transition(c, 'ready');
    c.finishing = false;
    c.lastUsed = Date.now();
    c.timers.pause = setTimeout(() => {
      if (c.state !== 'ready') return;
      this.transition(c, 'paused');
      c.pausing = c.container.pause();
      c.pausing.catch((err: unknown) => this.opts.log.warn({ err, container: c.container.name }, 'pause failed'));
    }, this.opts.pauseGraceMs);
    c.timers.pause.unref();
    c.timers.idle = setTimeout(() => {
      if (c.state === 'ready' || c.state === 'paused') this.track(this.remove(c));
    }, keepMs);
    c.timers.idle.unref();
  }

  private schedulePrewarm(job: PoolJob, afterMs: number, keepMs: number): void {
    clearTimeout(this.scheduled.get(job.warmKey));
    const t = setTimeout(() => {
      this.scheduled.delete(job.warmKey);
      this.track(this.loadAhead(job, keepMs));
    }, afterMs);
    t.unref();
    this.scheduled.set(job.warmKey, t);
  }

  /**
   * Creates and /inits a container for `job`'s action before its next expected call, if there is
   * room; once ready it is kept `keepMs`.
   */
  private async loadAhead(job: PoolJob, keepMs: number): Promise<void> {
    if (this.closed || !job.prepare) return;
    for (const c of this.containers) if (c.warmKey === job.warmKey && c.state !== 'removing') return;
    // Never evict for a guess: a prewarm only uses memory nobody else needs now.
    if (this.buffer.length > 0 || this.usedMB() + job.memoryMB > this.opts.userMemoryMB) {
      this.opts.log.debug?.({ action: job.warmKey }, 'no room to load the action ahead of its next call');
      return;
    }
    const t0 = Date.now();
    this.reservedMB += job.memoryMB;
    let c: Entry;
    try {
      c = await this.create(job.kind, job.image, job.memoryMB, job.label, 'warming');
    } finally {
      this.reservedMB -= job.memoryMB;
    }
    c.warmKey = job.warmKey;
    c.maxConcurrency = Math.max(1, job.maxConcurrency);
    const t1 = Date.now();
    const ok = await job.prepare(c).catch((err: unknown) => {
      this.opts.log.warn({ err, container: c.container.name }, 'could not load the action ahead of its next call');
      return false;
    });
    if (!ok || c.state !== 'warming') {
      if (c.state !== 'removing') await this.remove(c);
      return;
    }
    this.prepareTime.add(Date.now() - t1);
    c.initialized = true;
    this.opts.log.debug?.({ action: job.warmKey, container: c.container.name, ms: Date.now() - t0 }, 'loaded ahead of its next call');
    this.keepIdle(c, keepMs);
    this.drain();
  }

  private leadMs(): number {
    return this.createTime.lead() + this.prepareTime.lead();
  }

  private logDecision(action: string, d: KeepAliveDecision): void {
    if (!this.opts.log.debug) return;
    const text = `${d.rule} ${d.prewarmAfterMs ?? 0} ${d.keepAliveMs}`;
    if (this.logged.get(action) === text) return;
    if (this.logged.size > 10_000) this.logged.clear();
    this.logged.set(action, text);
    this.opts.log.debug({ action, rule: d.rule, prewarmAfterMs: d.prewarmAfterMs ?? 0, keepAliveMs: d.keepAliveMs, leadMs: Math.round(this.leadMs()) }, 'keep-alive windows');
  }

  /** Stem cells wanted now: the reactive rule's count, but never below initialCount in the first ttl. */
  private stemTarget(cell: StemCell, now: number): number {
    const r = this.reactive.get(cellKey(cell.kind, cell.memoryMB));
    if (!r) return cell.count;
    return Math.max(r.desired(now), now - this.startedAt < r.config.ttlMs ? cell.count : 0);
  }

  /** Removes stem cells unused for their ttl beyond the reactive target, and starts missing ones. */
  private adjustStemCells(): void {
    if (this.closed) return;
    const now = this.now();
    for (const cell of this.opts.stemCells) {
      const r = this.reactive.get(cellKey(cell.kind, cell.memoryMB));
      if (!r) continue;
      const mine = [...this.containers]
        .filter((c) => c.state === 'prewarmed' && c.kind === cell.kind && c.memoryMB === cell.memoryMB)
        .sort((a, b) => a.createdAt - b.createdAt);
      let extra = mine.length - this.stemTarget(cell, now);
      for (const c of mine) {
        if (extra <= 0) break;
        if (now - c.createdAt < r.config.ttlMs) continue;
        extra--;
        this.opts.log.debug?.({ kind: cell.kind, container: c.container.name }, 'removing an unused stem cell');
        this.track(this.remove(c));
      }
    }
    this.prewarm();
  }

  private async create(kind: string, image: string, memoryMB: number, label: string, state: 'prewarmed' | 'warming' | 'running'): Promise<Entry> {
    const seq = ++this.seq;
    const t0 = Date.now();
    // Names are global to the Docker daemon: a token of the owner keeps two deployments sharing one
    // daemon (a standalone and a distributed invoker0, say) from taking each other's names.
    const name = `whirl${this.opts.invokerId}_${this.ownerToken}_${seq}_${label}`.replace(/[^A-Za-z0-9_.-]/g, '');
    const container = await this.factory.create({ name, image, memoryMB, env: this.opts.env, labels: this.labels });
    this.createTime.add(Date.now() - t0);
    const pc: Entry = {
      seq,
      container,
      logs: new LogBuffer(container),
      agent: containerAgent(container),
      kind,
      image,
      memoryMB,
      state,
      initialized: false,
      active: 0,
      maxConcurrency: 1,
      doomed: false,
      finishing: false,
      runs: 0,
      lastUsed: Date.now(),
      createdAt: this.now(),
      timers: {},
    };
    this.containers.add(pc);
    if (this.closed) {
      await this.remove(pc);
      throw new Error('the invoker is shutting down');
    }
    return pc;
  }

  private async remove(c: Entry): Promise<void> {
    if (c.state === 'removing' && !this.containers.has(c)) return;
    this.transition(c, 'removing');
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

function cellKey(kind: string, memoryMB: number): string {
  return `${kind}|${memoryMB}`;
}

/**
 * How long to allow for a step of a load ahead: its moving mean plus four moving mean deviations, as
 * TCP sets its retransmission timer from round trips (RFC 6298). On a busy host the times spread (one
 * container start alone: a few hundred ms; beside a burst of others: seconds), and a load that ends
 * after the call it was for is a cold start, while one that ends early only costs that much memory.
 */
class LoadTime {
  private mean = 0;
  private dev = 0;
  private seen = false;

  add(ms: number): void {
    if (!this.seen) {
      this.seen = true;
      this.mean = ms;
      this.dev = ms / 2;
      return;
    }
    this.dev = 0.75 * this.dev + 0.25 * Math.abs(ms - this.mean);
    this.mean = 0.875 * this.mean + 0.125 * ms;
  }

  lead(): number {
    return this.mean + 4 * this.dev;
  }
}
