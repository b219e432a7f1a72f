/**
 * Per-activation resource usage read from a container's cgroup, for both layouts:
 *
 * - cgroup v1 (a hierarchy per controller, e.g. /sys/fs/cgroup/memory/docker/<id>): the memory
 *   high-water mark `memory.max_usage_in_bytes` is reset to the current usage at the start of the
 *   activation (writing 0 to it does that) and read at the end; CPU time is `cpuacct.usage` (ns),
 *   read before and after.
 * - cgroup v2 (one unified tree, e.g. /sys/fs/cgroup/system.slice/docker-<id>.scope): `memory.peak`
 *   is reset through the file descriptor the meter keeps open (kernel 6.12+ keeps a peak per writer);
 *   CPU time is `usage_usec` of `cpu.stat`.
 *
 * Where the peak cannot be reset (older kernels, no write permission), the meter samples current
 * usage every few milliseconds instead, which can miss a short spike but never reports one that did
 * not happen. The container's cgroup is found from its main process's /proc/<pid>/cgroup and the
 * host's mount table, so the cgroupfs and systemd drivers both work; when nothing is readable (an
 * invoker inside a container without the host's /sys/fs/cgroup) there is no meter and activations
 * simply carry no usage annotations.
 */
import { closeSync, openSync, readFileSync, readSync, writeFileSync, writeSync } from 'node:fs';
import { readFile, writeFile, access } from 'node:fs/promises';
import path from 'node:path';
import type { ResourceUsage, UsageMeter } from '@whirl/core';

const SAMPLE_MS = 10;

export interface CgroupMounts {
  /** v1 controller name → mount point. */
  v1: Map<string, string>;
  /** Mount point of the unified (v2) hierarchy, if any. */
  v2?: string;
}

/** Cgroup mount points, from /proc/self/mountinfo's text. */
export function parseMountinfo(text: string): CgroupMounts {
  const v1 = new Map<string, string>();
  let v2: string | undefined;
  for (const line of text.split('\n')) {
    const [left, right] = line.split(' - ');
    if (!left || !right) continue;
    const mountPoint = left.split(' ')[4];
    const [fstype, , superOptions] = right.split(' ');
    if (!mountPoint) continue;
    if (fstype === 'cgroup2') v2 ??= mountPoint;
    else if (fstype === 'cgroup') {
      for (const opt of (superOptions ?? '').split(',')) if (opt === 'memory' || opt === 'cpuacct' || opt === 'cpu') v1.set(opt, mountPoint);
    }
  }
  return { v1, ...(v2 !== undefined ? { v2 } : {}) };
}

/** A process's cgroup paths, from /proc/<pid>/cgroup's text: v1 controller → path, and the v2 path. */
export function parseProcCgroup(text: string): { v1: Map<string, string>; v2?: string } {
  const v1 = new Map<string, string>();
  let v2: string | undefined;
  for (const line of text.split('\n')) {
    const m = /^(\d+):([^:]*):(.*)$/.exec(line.trim());
    if (!m) continue;
    const [, id, controllers, p] = m as unknown as [string, string, string, string];
    if (id === '0' && controllers === '') v2 = p;
    else for (const c of controllers.split(',')) v1.set(c, p);
  }
  return { v1, ...(v2 !== undefined ? { v2 } : {}) };
}

export type CgroupLocation = { version: 1; memoryDir: string; cpuacctDir: string } | { version: 2; dir: string };

/**
 * Where a process's memory and CPU counters are. v1 wins when the memory controller is mounted as
 * v1 (hybrid hosts also mount an empty unified tree, without controllers).
 */
export async function locateCgroup(pid: number, root = '/'): Promise<CgroupLocation | undefined> {
  let mounts: CgroupMounts;
  let own: ReturnType<typeof parseProcCgroup>;
  try {
    mounts = parseMountinfo(await readFile(path.join(root, 'proc/self/mountinfo'), 'utf8'));
    own = parseProcCgroup(await readFile(path.join(root, `proc/${pid}/cgroup`), 'utf8'));
  } catch {
    return undefined;
  }
  const memMount = mounts.v1.get('memory');
  const cpuMount = mounts.v1.get('cpuacct') ?? mounts.v1.get('cpu');
  const memPath = own.v1.get('memory');
  const cpuPath = own.v1.get('cpuacct') ?? own.v1.get('cpu');
  if (memMount && cpuMount && memPath !== undefined && cpuPath !== undefined) {
    const loc = { version: 1 as const, memoryDir: path.join(memMount, memPath), cpuacctDir: path.join(cpuMount, cpuPath) };
    if ((await exists(path.join(loc.memoryDir, 'memory.usage_in_bytes'))) && (await exists(path.join(loc.cpuacctDir, 'cpuacct.usage')))) return loc;
  }
  if (mounts.v2 && own.v2 !== undefined) {
    const dir = path.join(mounts.v2, own.v2);
    if ((await exists(path.join(dir, 'memory.current'))) && (await exists(path.join(dir, 'cpu.stat')))) return { version: 2, dir };
  }
  return undefined;
}

async function exists(file: string): Promise<boolean> {
  try {
    await access(file);
    return true;
  } catch {
    return false;
  }
}

// The per-activation reads below are synchronous on purpose: cgroupfs files live in kernel memory and
// answer in microseconds, while each fs.promises call costs a thread-pool round trip and handle
// objects: the warm-path profile had this meter's promise-based reads at ~0.3 ms of CPU per invoke.
function readNumber(file: string): number {
  const n = Number(readFileSync(file, 'utf8').trim());
  if (!Number.isFinite(n)) throw new Error(`${file} does not hold a number`);
  return n;
}

function cpuNs(loc: CgroupLocation): number {
  if (loc.version === 1) return readNumber(path.join(loc.cpuacctDir, 'cpuacct.usage'));
  const stat = readFileSync(path.join(loc.dir, 'cpu.stat'), 'utf8');
  const m = /^usage_usec (\d+)$/m.exec(stat);
  if (!m) throw new Error('cpu.stat has no usage_usec');
  return Number(m[1]) * 1000;
}

/** Starts a meter on a located cgroup. */
export async function startCgroupMeter(loc: CgroupLocation): Promise<UsageMeter> {
  const cpuStart = cpuNs(loc);
  const currentFile = loc.version === 1 ? path.join(loc.memoryDir, 'memory.usage_in_bytes') : path.join(loc.dir, 'memory.current');
  let peakReader: (() => number) | undefined;
  let fd: number | undefined;
  if (loc.version === 1) {
    const file = path.join(loc.memoryDir, 'memory.max_usage_in_bytes');
    try {
      writeFileSync(file, '0');
      peakReader = () => readNumber(file);
    } catch {
      // Read-only cgroupfs: sample instead.
    }
  } else {
    try {
      fd = openSync(path.join(loc.dir, 'memory.peak'), 'r+');
      writeSync(fd, 'reset\n', 0);
      const peakFd = fd;
      peakReader = () => {
        const buf = Buffer.alloc(64);
        const bytesRead = readSync(peakFd, buf, 0, buf.length, 0);
        const n = Number(buf.subarray(0, bytesRead).toString('utf8').trim());
        if (!Number.isFinite(n)) throw new Error('memory.peak does not hold a number');
        return n;
      };
    } catch {
      if (fd !== undefined) closeQuietly(fd);
      fd = undefined;
    }
  }
  let sampled = 0;
  let sampler: NodeJS.Timeout | undefined;
  const sample = (): void => {
    try {
      sampled = Math.max(sampled, readNumber(currentFile));
    } catch {
      // The container is going away; what was seen so far stands.
    }
  };
  if (!peakReader) {
    sample();
    sampler = setInterval(sample, SAMPLE_MS);
    sampler.unref();
  }
  return {
    async stop(): Promise<ResourceUsage | undefined> {
      clearInterval(sampler);
      try {
        let peak: number;
        if (peakReader) peak = peakReader();
        else {
          sample();
          peak = sampled;
        }
        return { memoryPeakBytes: peak, cpuNs: Math.max(0, cpuNs(loc) - cpuStart) };
      } catch {
        return undefined;
      } finally {
        if (fd !== undefined) closeQuietly(fd);
      }
    },
  };
}

function closeQuietly(fd: number): void {
  try {
    closeSync(fd);
  } catch {
    // Already gone with its cgroup.
  }
}

/**
 * A meter on one process (the local-process factory, where a child shares the invoker's cgroup):
 * peak resident memory `VmHWM` of /proc/<pid>/status, reset by writing 5 to /proc/<pid>/clear_refs,
 * and user + system CPU time of /proc/<pid>/stat (the process and the children it has waited for).
 */
export async function startProcMeter(pid: number, ticksPerSecond = 100): Promise<UsageMeter | undefined> {
  const stat = async (): Promise<number> => {
    const text = await readFile(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name (which may hold spaces): state is field 3, utime 14 … cstime 17.
    const f = text.slice(text.lastIndexOf(')') + 2).split(' ');
    const ticks = [11, 12, 13, 14].reduce((sum, i) => sum + Number(f[i]), 0);
    return (ticks / ticksPerSecond) * 1e9;
  };
  const hwm = async (): Promise<number> => {
    const text = await readFile(`/proc/${pid}/status`, 'utf8');
    const m = /^VmHWM:\s+(\d+) kB$/m.exec(text);
    if (!m) throw new Error('no VmHWM');
    return Number(m[1]) * 1024;
  };
  let cpuStart: number;
  try {
    cpuStart = await stat();
    await writeFile(`/proc/${pid}/clear_refs`, '5').catch(() => undefined);
    await hwm();
  } catch {
    return undefined;
  }
  return {
    async stop(): Promise<ResourceUsage | undefined> {
      try {
        return { memoryPeakBytes: await hwm(), cpuNs: Math.max(0, (await stat()) - cpuStart) };
      } catch {
        return undefined;
      }
    },
  };
}
