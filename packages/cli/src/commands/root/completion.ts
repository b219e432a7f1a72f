/** `whirl completion bash|zsh`: scripts generated from the command tree, so they never go stale. */
import { Command } from 'commander';
import { UsageError } from '../../exit.js';
import type { Factory } from '../../factory.js';
import type { IOStreams } from '../../iostreams.js';

export interface CompletionOptions {
  io: IOStreams;
  shell: string;
  root: Command;
}

export function makeCompletionCommand(f: Factory, run = runCompletion): Command {
  const cmd: Command = new Command('completion')
    .description('print a shell completion script: eval "$(whirl completion bash)"')
    .argument('<shell>', 'bash or zsh')
    .action(async (shell: string) => {
      let root = cmd;
      while (root.parent) root = root.parent;
      await run({ io: f.io, shell, root });
    });
  return cmd;
}

function flagsOf(c: Command): string {
  return [...c.options.flatMap((o) => [o.long, o.short].filter((x): x is string => x !== undefined)), '--help'].join(' ');
}

export function bashScript(root: Command): string {
  const top = root.commands.map((c) => c.name()).join(' ');
  const groupCases: string[] = [];
  for (const g of root.commands) {
    if (g.commands.length === 0) {
      groupCases.push(`    ${g.name()}) opts="${flagsOf(g)}" ;;`);
      continue;
    }
    const subs = g.commands.map((s) => s.name()).join(' ');
    const leafCases = g.commands.map((s) => `        ${s.name()}) opts="${flagsOf(s)}" ;;`).join('\n');
    groupCases.push(
      `    ${g.name()})\n      if [ "$COMP_CWORD" -eq 2 ]; then COMPREPLY=( $(compgen -W "${subs}" -- "$cur") ); return; fi\n      case "\${COMP_WORDS[2]}" in\n${leafCases}\n      esac ;;`,
    );
  }
  return `# bash completion for whirl. Load with: eval "$(whirl completion bash)"
_whirl() {
  local cur opts=""
  cur="\${COMP_WORDS[COMP_CWORD]}"
  if [ "$COMP_CWORD" -eq 1 ]; then
    COMPREPLY=( $(compgen -W "${top} ${flagsOf(root)}" -- "$cur") ); return
  fi
  case "\${COMP_WORDS[1]}" in
${groupCases.join('\n')}
  esac
  if [[ "$cur" == -* ]]; then COMPREPLY=( $(compgen -W "$opts" -- "$cur") ); else COMPREPLY=( $(compgen -f -- "$cur") ); fi
}
complete -o default -F _whirl whirl
`;
}

export async function runCompletion(o: CompletionOptions): Promise<void> {
  if (o.shell === 'bash') o.io.out.write(bashScript(o.root));
  else if (o.shell === 'zsh') {
    // zsh runs bash completion functions through bashcompinit; one generator serves both shells.
    o.io.out.write(`#compdef whirl\n# zsh completion for whirl. Load with: eval "$(whirl completion zsh)"\nautoload -U +X bashcompinit && bashcompinit\n${bashScript(o.root)}`);
  } else throw new UsageError(`Unsupported shell '${o.shell}': use bash or zsh.`);
  await Promise.resolve();
}
