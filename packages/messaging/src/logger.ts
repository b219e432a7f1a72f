/** The logger both bus adapters report to, and their default sink. pino loggers fit as they are. */

export interface BusLogger {
  warn(obj: Record<string, unknown>, msg: string): void;
  /** Only the Kafka adapter has errors and routine lines to pass on (kafkajs's own log); without these they go to `warn` or nowhere. */
  error?(obj: Record<string, unknown>, msg: string): void;
  info?(obj: Record<string, unknown>, msg: string): void;
}

/**
 * A silent default would hide failing handlers entirely; stderr is the one sink always present.
 * Writes `[whirl <source>] <msg> topic=… group=…: <error>`, each part only when the entry has it.
 */
export function stderrBusLogger(source: string): BusLogger {
  return {
    warn(obj, msg) {
      const where = ['topic', 'group'].map((k) => (obj[k] === undefined ? '' : ` ${k}=${String(obj[k])}`)).join('');
      const err = obj.err instanceof Error ? `: ${obj.err.stack ?? obj.err.message}` : obj.err === undefined ? '' : `: ${String(obj.err)}`;
      process.stderr.write(`[whirl ${source}] ${msg}${where}${err}\n`);
    },
  };
}
