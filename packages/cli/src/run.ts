/**
 * The single place where a command's outcome becomes an exit code (table in exit.ts) and where errors are
 * printed: one line, an optional hint, never a stack trace (unless WHIRL_DEBUG=1).
 */
import { Command, CommanderError } from 'commander';
import { ApiError } from './api/client.js';
import { PRECEDENCE_HELP } from './config.js';
import { CliError, EXIT_CODE_HELP, ExitCode, SilentExit, UsageError } from './exit.js';
import type { Factory } from './factory.js';
import type { IOStreams } from './iostreams.js';
import { foldPairFlags } from './params.js';
import { makeActionCommand } from './commands/action/index.js';
import { makeActivationCommand } from './commands/activation/index.js';
import { makePackageCommand } from './commands/package/index.js';
import { makeNamespaceCommand } from './commands/namespace/index.js';
import { makePropertyCommand } from './commands/property/index.js';
import { makeRuleCommand } from './commands/rule/index.js';
import { makeApiCommand } from './commands/api/index.js';
import { makeTriggerCommand } from './commands/trigger/index.js';
import { makeCompletionCommand } from './commands/root/completion.js';
import { makeAdminCommand } from './commands/admin/index.js';
import { makeListCommand } from './commands/root/list.js';
import { runVersion } from './commands/root/version.js';
import { addGlobalFlags, hasGlobalFlags } from './commands/shared.js';
import type { GlobalFlags } from './config.js';

const GLOBAL_KEYS = ['apihost', 'auth', 'apiversion', 'insecure', 'verbose', 'debug'] as const;

function pickGlobals(o: Record<string, unknown>): GlobalFlags {
  const g: Record<string, unknown> = {};
  for (const k of GLOBAL_KEYS) if (o[k] !== undefined) g[k] = o[k];
  return g as GlobalFlags;
}

/** Applies the shared settings to every command in the tree, including ones added later by groups. */
function configureTree(cmd: Command, io: IOStreams): void {
  cmd.exitOverride();
  cmd.configureOutput({
    writeOut: (s) => io.out.write(s),
    writeErr: (s) => io.err.write(s),
    outputError: (s, write) => write(s.replace(/^error:/, io.errColors().red('error:'))),
  });
  cmd.showSuggestionAfterError(true);
  cmd.allowExcessArguments(false);
  for (const sub of cmd.commands) configureTree(sub, io);
}

export function makeRootCommand(f: Factory): Command {
  const program = addGlobalFlags(new Command('whirl'))
    .description('Whirl CLI: a wsk-compatible command line for Whirl and Apache OpenWhisk')
    .option('--version', 'print the CLI and server versions')
    .enablePositionalOptions()
    .addCommand(makeActionCommand(f))
    .addCommand(makeActivationCommand(f))
    .addCommand(makePackageCommand(f))
    .addCommand(makeTriggerCommand(f))
    .addCommand(makeRuleCommand(f))
    .addCommand(makeApiCommand(f))
    .addCommand(makeNamespaceCommand(f))
    .addCommand(makeListCommand(f))
    .addCommand(makePropertyCommand(f))
    .addCommand(makeCompletionCommand(f))
    .addCommand(makeAdminCommand(f))
    .addHelpText('after', `\n${PRECEDENCE_HELP}\n\n${EXIT_CODE_HELP}\n`)
    .argument('[command]')
    .action(async (command: string | undefined, o: { version?: boolean }) => {
      if (command !== undefined) {
        const names = program.commands.map((c) => c.name());
        const near = names.find((n) => n.startsWith(command.slice(0, 3)));
        throw new UsageError(`unknown command '${command}'${near !== undefined ? ` (Did you mean ${near}?)` : ''}. Run 'whirl --help' for the list.`);
      }
      if (o.version === true) return runVersion(f);
      program.outputHelp();
    });
  program.hook('preAction', (root, action) => {
    const leafGlobals = hasGlobalFlags(action) && action !== root ? pickGlobals(action.opts()) : {};
    f.setGlobals({ ...pickGlobals(root.opts()), ...leafGlobals });
  });
  configureTree(program, f.io);
  // The root takes the command word itself, so it can say 'unknown command' rather than 'too many arguments'.
  program.allowExcessArguments(true);
  return program;
}

export function reportError(io: IOStreams, e: unknown, env: NodeJS.ProcessEnv = {}): number {
  const red = io.errColors().red;
  const line = (msg: string, hint?: string): void => {
    io.err.write(`${red('error:')} ${msg}\n`);
    if (hint !== undefined) io.err.write(`${io.errColors().gray('hint:')} ${hint}\n`);
  };
  if (e instanceof CommanderError) {
    // Commander has already printed its own one-line message (or the help/version text).
    return e.exitCode === 0 ? ExitCode.ok : ExitCode.usage;
  }
  if (e instanceof SilentExit) return e.exitCode;
  if (e instanceof UsageError) {
    line(e.message);
    return ExitCode.usage;
  }
  if (e instanceof CliError) {
    line(e.message, e.hint);
    return e.exitCode;
  }
  if (e instanceof ApiError) {
    line(e.message);
    return e.exitCode;
  }
  const msg = e instanceof Error ? e.message : String(e);
  line(`unexpected failure: ${msg}`);
  if (env.WHIRL_DEBUG === '1' && e instanceof Error && e.stack !== undefined) io.err.write(`${e.stack}\n`);
  return ExitCode.error;
}

/** Parses argv (without node and script), runs the command, returns the exit code. */
export async function run(argv: readonly string[], f: Factory): Promise<number> {
  try {
    const program = makeRootCommand(f);
    await program.parseAsync(foldPairFlags(argv), { from: 'user' });
    return ExitCode.ok;
  } catch (e) {
    return reportError(f.io, e, f.env);
  }
}
