/** The Docker daemon the end-to-end tests use, and whether it answers (Docker tests skip when not). */
import Dockerode from 'dockerode';

export const docker = new Dockerode();
export const dockerUp: boolean = await docker.ping().then(
  () => true,
  () => false,
);
