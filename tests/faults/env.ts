/**
 * The fault suite's own dev services: ports and a state directory apart from the defaults that
 * tests/distributed uses, so that both can run at once on one machine (and in one checkout).
 * Set before any topology starts (deploy/dev/distributed.ts reads these when it starts one).
 */
import path from 'node:path';
import { repoRoot } from '../helpers/standalone.js';

export const FAULT_ENV: Record<string, string> = {
  KAFKA_PORT: '29092',
  KAFKA_CONTROLLER_PORT: '29093',
  COUCHDB_PORT: '25984',
  NGINX_HTTP_PORT: '28080',
  NGINX_HTTPS_PORT: '28443',
  WHIRL_DEV_STATE: path.join(repoRoot, '.tmp', 'faults'),
};

export function useFaultEnv(): void {
  Object.assign(process.env, FAULT_ENV);
}
