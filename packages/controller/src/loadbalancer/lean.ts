/**
 * The standalone balancer: one invoker in the same process, reached through the in-process bus with
 * the same messages a distributed deployment sends over Kafka. It keeps the count of activations in
 * flight per namespace (the concurrency throttle reads it) and frees it on the completion ack.
 */
import { Topics, type ActivationMessage, type MessageBus } from '@whirl/core';

/** What the balancer needs to know about the action being placed. */
export interface PublishOptions {
  memoryMB: number;
  timeoutMs: number;
  /** A user image (blackbox) rather than a managed runtime. */
  blackbox: boolean;
}

export interface Published {
  logged?: Promise<void>;
}

export interface LoadBalancer {
  /**
   * Sends the activation to an invoker; resolves once the invoker or the bus has taken it. When the
   * invoker took it first (the direct channel), `logged` is the bus copy still on its way: the
   * durable log of the activation, which a caller waits for before it hands a result out.
   */
  publish(msg: ActivationMessage, o: PublishOptions): Promise<Published>;
  /** Called on every completion ack. */
  release(activationId: string, isSystemError?: boolean): void;
  /** Activations of this namespace not yet completed. */
  inFlight(namespace: string): number;
  /** Invoker health as OpenWhisk's GET /invokers shows it. */
  invokerStates(): Record<string, string>;
}

export class LeanBalancer implements LoadBalancer {
  private readonly active = new Map<string, string>();
  private readonly perNamespace = new Map<string, number>();

  constructor(
    private readonly bus: MessageBus,
    private readonly invokerId = '0',
  ) {}

  async publish(msg: ActivationMessage): Promise<Published> {
    this.active.set(msg.activationId, msg.user.namespace);
    this.perNamespace.set(msg.user.namespace, (this.perNamespace.get(msg.user.namespace) ?? 0) + 1);
    try {
      await this.bus.publish(Topics.invoker(this.invokerId), { object: msg });
      return {};
    } catch (e) {
      this.release(msg.activationId);
      throw e;
    }
  }

  release(activationId: string, _isSystemError?: boolean): void {
    const ns = this.active.get(activationId);
    if (ns === undefined) return;
    this.active.delete(activationId);
    const n = (this.perNamespace.get(ns) ?? 1) - 1;
    if (n <= 0) this.perNamespace.delete(ns);
    else this.perNamespace.set(ns, n);
  }

  inFlight(namespace: string): number {
    return this.perNamespace.get(namespace) ?? 0;
  }

  invokerStates(): Record<string, string> {
    return { [`invoker${this.invokerId}`]: 'up' };
  }
}
