/**
 * The per-container directory Whirl's proxies use besides TCP port 8080: a Unix socket
 * (`proxy.sock`) and, with log files, `logs/<activation id>`. Shared by the Docker factory (which
 * mounts it at /whirl) and the process factory.
 */
import { randomBytes } from 'node:crypto';
import { chmodSync, lstatSync, mkdirSync } from 'node:fs';
import path from 'node:path';

/** Where the per-container directory appears inside the container (the proxies know it). */
export const WHIRL_MOUNT = '/whirl';
/** A Unix socket path is limited to 108 bytes with its NUL (sun_path); longer, TCP it is. */
export const MAX_SOCKET_PATH = 107;

/** The per-container directory: a short random name (socket paths are short), open to the container's user. */
export function makeContainerDir(stateDir: string, logFiles: boolean): string {
  mkdirSync(stateDir, { recursive: true, mode: 0o700 });
  // Under /tmp someone else could have made it first, to reach into every container's directory.
  const st = lstatSync(stateDir);
  if (!st.isDirectory() || (process.getuid && st.uid !== process.getuid()) || (st.mode & 0o022) !== 0) {
    throw new Error(`${stateDir} must be a directory of this user that no one else may write to (it holds the containers' sockets)`);
  }
  const dir = path.join(stateDir, randomBytes(5).toString('hex'));
  mkdirSync(dir, { mode: 0o777 });
  // Whatever the umask: the action may run as any user of its image. The parent stays the
  // invoker's alone, so no other user of the host reaches in.
  chmodSync(dir, 0o777);
  if (logFiles) {
    // Made here rather than by the proxy, so the invoker can remove what a root proxy writes in it.
    mkdirSync(path.join(dir, 'logs'), { mode: 0o777 });
    chmodSync(path.join(dir, 'logs'), 0o777);
  }
  return dir;
}
