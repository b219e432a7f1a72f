import { describe, expect, it } from 'vitest';
import { parseMountinfo, parseProcCgroup } from './cgroup.js';

describe('cgroup layouts', () => {
  it('reads v1 controller mounts (and a hybrid host’s empty unified tree) from mountinfo', () => {
    const m = parseMountinfo(
      [
        '31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755',
        '33 31 0:30 / /sys/fs/cgroup/cpu,cpuacct rw,relatime - cgroup cgroup rw,cpu,cpuacct',
        '35 31 0:32 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory',
        '41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw',
      ].join('\n'),
    );
    expect(m.v1.get('memory')).toBe('/sys/fs/cgroup/memory');
    expect(m.v1.get('cpuacct')).toBe('/sys/fs/cgroup/cpu,cpuacct');
    expect(m.v2).toBe('/sys/fs/cgroup/unified');
  });

  it('reads a v2-only host', () => {
    const m = parseMountinfo('30 23 0:26 / /sys/fs/cgroup rw,nosuid,nodev,noexec,relatime shared:4 - cgroup2 cgroup2 rw,nsdelegate');
    expect(m.v1.size).toBe(0);
    expect(m.v2).toBe('/sys/fs/cgroup');
  });

  it("finds a container's paths under cgroupfs and systemd drivers", () => {
    const v1 = parseProcCgroup('4:memory:/docker/abc\n2:cpu,cpuacct:/docker/abc\n0::/docker/abc\n');
    expect(v1.v1.get('memory')).toBe('/docker/abc');
    expect(v1.v1.get('cpuacct')).toBe('/docker/abc');
    const v2 = parseProcCgroup('0::/system.slice/docker-abc.scope\n');
    expect(v2.v1.size).toBe(0);
    expect(v2.v2).toBe('/system.slice/docker-abc.scope');
  });
});
