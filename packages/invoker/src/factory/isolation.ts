/**
 * Network isolation of action containers (docs/isolation.md). On Docker's default bridge a container
 * can open connections to every service of its host that listens beyond 127.0.0.1 (the controller,
 * Kafka, CouchDB, a Docker TCP socket) through the bridge's gateway address, and to every other
 * container on the bridge, including another tenant's action proxy. So the invoker puts its
 * containers on a bridge of its own, created with inter-container traffic off, and refuses, in the
 * host's INPUT chain, every new connection that arrives from that bridge. The invoker still reaches
 * its containers (it opens the connections; only the replies come back in), and containers still
 * reach the outside world through the forwarding path.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import type Dockerode from 'dockerode';

const run = promisify(execFile);

/** The default, invoker-managed network for action containers. */
export const ACTION_NETWORK = 'whirl-actions';
/** Its Linux bridge interface (at most 15 characters), named so that the firewall rule can match it. */
export const ACTION_BRIDGE = 'whirl-actions0';
const RULE_COMMENT = 'whirl: action containers may not open connections to this host';

export interface IsolationOutcome {
  network: string;
  /** Whether the host firewall rule is in place (false: not root, or no iptables). */
  firewall: boolean;
  warning?: string;
}

function statusCode(e: unknown): number | undefined {
  return typeof e === 'object' && e !== null ? (e as { statusCode?: number }).statusCode : undefined;
}

async function ensureNetwork(docker: Dockerode, name: string, bridge: string): Promise<void> {
  try {
    await docker.getNetwork(name).inspect();
    return;
  } catch (e) {
    if (statusCode(e) !== 404) throw e;
  }
  try {
    await docker.createNetwork({
      Name: name,
      Driver: 'bridge',
      CheckDuplicate: true,
      Labels: { 'whirl.network': 'actions' },
      Options: {
        'com.docker.network.bridge.name': bridge,
        // No container-to-container traffic: one tenant's action cannot call another's proxy.
        'com.docker.network.bridge.enable_icc': 'false',
      },
    });
  } catch (e) {
    // Another invoker on this host created it first.
    if (statusCode(e) !== 409) throw e;
  }
}

/** The INPUT rule's arguments after the chain; `-C` checks for it, `-I` inserts it. */
export function firewallRule(bridge: string): string[] {
  return ['-i', bridge, '-m', 'conntrack', '--ctstate', 'NEW', '-m', 'comment', '--comment', RULE_COMMENT, '-j', 'REJECT'];
}

async function ensureFirewall(bridge: string): Promise<string | undefined> {
  const rule = firewallRule(bridge);
  try {
    await run('iptables', ['-w', '-C', 'INPUT', ...rule]);
    return undefined;
  } catch {
    // not there yet (or no iptables: the insert below says which)
  }
  try {
    await run('iptables', ['-w', '-I', 'INPUT', '1', ...rule]);
    return undefined;
  } catch (e) {
    return (e as Error).message.split('\n')[0];
  }
}

/**
 * Makes sure the managed action network exists with its firewall rule. Without root or iptables the
 * network is still used (containers cannot reach each other) and the returned warning says that they
 * can reach this host's services.
 */
export async function prepareActionNetwork(docker: Dockerode, name = ACTION_NETWORK, bridge = ACTION_BRIDGE): Promise<IsolationOutcome> {
  await ensureNetwork(docker, name, bridge);
  const info = (await docker.getNetwork(name).inspect()) as { Options?: Record<string, string> };
  const actualBridge = info.Options?.['com.docker.network.bridge.name'] ?? bridge;
  const failure = await ensureFirewall(actualBridge);
  if (failure === undefined) return { network: name, firewall: true };
  return {
    network: name,
    firewall: false,
    warning: `WARNING: could not add the firewall rule that keeps action containers away from this host's services (${failure}); run the invoker as root with iptables, or add the rule yourself: iptables -I INPUT ${firewallRule(actualBridge).map((a) => (a.includes(' ') ? `'${a}'` : a)).join(' ')}`,
  };
}
