/** The invoker's small interfaces, shared by its modules (a leaf, so that they import no circle). */
import type { KeepAlivePolicyName } from './keepalive.js';
import type { StemCell } from './pool.js';

export interface InvokerLog {
  debug?(o: object, m: string): void;
  info(o: object, m: string): void;
  warn(o: object, m: string): void;
  error(o: object, m: string): void;
}

export interface RuntimeImages {
  /** The image that runs a kind, or undefined when the kind is unknown. */
  imageFor(kind: string): string | undefined;
  /**
   * The local image a blackbox action's image name stands for (e.g. OpenWhisk's
   * `openwhisk/dockerskeleton` → Whirl's own skeleton), or the name unchanged.
   */
  blackboxImage?(image: string): string;
  /** Whether a blackbox image is one of the platform's native skeletons (which print sentinels). */
  isNativeBlackbox?(image: string): boolean;
  /** Whether the runtime of a kind tags each log line with its activation id (Whirl's Node.js proxy). */
  tagsLogLines?(kind: string): boolean;
  stemCells(): StemCell[];
}

export interface InvokerOptions {
  id: string;
  /**
   * Marks this invoker's containers (label `whirl.owner`), unique per deployment: clean-up at start
   * and stop removes these and nothing else, so two deployments on one Docker host (two standalones,
   * a test run beside a benchmark) never remove each other's containers.
   */
  owner: string;
  userMemoryMB: number;
  pauseGraceMs: number;
  idleTimeoutMs: number;
  /**
   * Keep-alive policy: `fixed` keeps idle containers `idleTimeoutMs`; `hybrid` learns each action's
   * idle times (see keepalive.ts). @default 'hybrid'
   */
  keepAlive?: KeepAlivePolicyName;
  /** Width of the hybrid policy's histogram bins (240 of them). @default 60_000 */
  keepAliveBinMs?: number;
  /** Where the keep-alive policy's learning is kept across restarts (keepalive-state.ts); unset, nowhere. */
  keepAliveStateFile?: string;
  prewarm: boolean;
  apiHost: string;
  /** How long log collection waits for the next line before giving up. */
  logIdleMs?: number;
  /** Send a health ping on the `health` topic this often (distributed deployments); 0 = never. */
  healthPingMs?: number;
  /**
   * Pull blackbox images that are not present locally. Off by default: a pull reaches out to a
   * registry, which an operator must allow explicitly.
   */
  pullImages?: boolean;
  /**
   * This invoker's direct channel (`POST /__whirl/activations`), advertised in its health pings:
   * controllers post blocking activations there and keep the bus copy as the write-behind log.
   */
  direct?: { url: string; token: string };
}
