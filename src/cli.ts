import { Command, CommanderError } from 'commander';
import { isGrpcServiceError, WorkflowUpdateFailedError } from '@temporalio/client';
import { AppConfig, ConfigError, loadConfig } from './config';
import { BatchIdRefused, DecisionNotDelivered } from './cli/operations';
import { StoreUnavailable } from './store/database';
import { type DefineCommand, EXIT, NotFound, UsageError } from './cli/command-line';
import { registerAdminCommands } from './cli/admin-commands';
import { registerBatchCommands } from './cli/batch-commands';
import { registerRecordCommands } from './cli/record-commands';
import { registerAuditCommand } from './cli/audit-command';

export { EXIT } from './cli/command-line';

/**
 * The command line, on commander: each subcommand has its own options and `--help`. Commander's own exits and
 * messages are turned into ours (one line on stderr, the documented exit codes).
 */
export async function main(argv: string[]): Promise<number> {
  let code: number = EXIT.ok;
  const program = new Command('capa-sync')
    .description('Keeps Veeva Vault CAPA records in sync with the risk system, waiting out workflow locks.')
    .addHelpText('after', '\nExit codes: 0 done, 1 failed, 2 bad usage or configuration, 3 not found.')
    .exitOverride()
    .configureOutput({ outputError: () => undefined });
  /** A subcommand whose action runs with the configuration from the environment and sets the exit code. */
  const command: DefineCommand = <Args extends unknown[]>(
    name: string,
    description: string,
    action: (config: AppConfig, ...args: Args) => Promise<number>,
  ) =>
    program
      .command(name)
      .description(description)
      .action(async (...args: unknown[]) => {
        // Commander passes the declared arguments, then the options object: what each action's types say.
        code = await action(loadConfig(), ...(args as Args));
      });

  registerAdminCommands(command, program, (exit) => (code = exit));
  registerBatchCommands(command);
  registerRecordCommands(command);
  registerAuditCommand(command);

  if (!argv.length) {
    program.outputHelp();
    return EXIT.usage;
  }
  // Commander answers `unknown --help` with the top-level help and exit 0; an unknown command is bad usage.
  const known = new Set(program.commands.flatMap((c) => [c.name(), ...c.aliases()]).concat('help'));
  if (!argv[0].startsWith('-') && !known.has(argv[0])) {
    throw new UsageError(`unknown command '${argv[0]}' (see capa-sync --help)`);
  }
  try {
    await program.parseAsync(argv, { from: 'user' });
  } catch (err) {
    if (!(err instanceof CommanderError)) throw err;
    if (err.exitCode === 0) return EXIT.ok; // --help, help <command>
    throw new UsageError(`${err.message.replace(/^error: /, '')} (see capa-sync --help)`);
  }
  return code;
}

/** One clear line per error, never a stack trace; the exit code says which kind. */
export function describeError(err: unknown): { code: number; message: string } {
  if (err instanceof StoreUnavailable || err instanceof DecisionNotDelivered)
    return { code: EXIT.failed, message: err.message };
  if (err instanceof UsageError || err instanceof ConfigError || err instanceof BatchIdRefused)
    return { code: EXIT.usage, message: err.message };
  if (err instanceof NotFound) return { code: EXIT.notFound, message: err.message };
  if (err instanceof WorkflowUpdateFailedError)
    return { code: EXIT.failed, message: `refused: ${(err.cause as Error)?.message ?? err.message}` };
  // A failed workflow's own message is generic ("Activity task failed"): the deepest cause says what happened.
  let root = err as Error;
  while ((root?.cause as Error | undefined)?.message) root = root.cause as Error;
  // Temporal's own answer without the gRPC wrapping ("9 FAILED_PRECONDITION: ...").
  if (isGrpcServiceError(root)) return { code: EXIT.failed, message: `Temporal refused the call: ${root.details}` };
  const e = err as Error;
  return { code: EXIT.failed, message: root === e ? String(e?.message ?? err) : `${e.message}: ${root.message}` };
}
