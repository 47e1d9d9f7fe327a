import type { Client } from '@temporalio/client';
import { Option } from 'commander';
import type { AppConfig } from '../config';
import {
  type DefineCommand,
  EXIT,
  json,
  type JsonOption,
  notFound,
  output,
  required,
  UsageError,
  withClient,
} from './command-line';
import { decide, decideBatch, listBatches, listRecords, recordStatus } from './operations';
import { QUERYABLE_NAME } from '../contracts/visibility';
import { table } from './batch-output';
import { type OperatorDecision, RECORD_PHASES, RecordPhase } from '../contracts/record-messages';

// The record commands: list record workflows (or running batches), one record's status, and the decisions an
// operator takes: force or cancel a record, approve or reject a held batch.

export interface ListOptions extends JsonOption {
  phase?: string;
  /** `--phase` by its earlier name, still taken (operators' scripts use it). */
  state?: string;
  batches?: boolean;
  team?: string;
  holder?: string;
}
export interface DecisionOptions extends JsonOption {
  operator?: string;
  reason?: string;
}

export function registerRecordCommands(command: DefineCommand): void {
  listCommand(command);
  statusCommand(command);
  decisionCommands(command);
}

function listCommand(command: DefineCommand): void {
  command(
    'list',
    'record workflows (default: all running); --batches: running batches',
    async (config, o: ListOptions) =>
      withClient(config, async (client) => {
        if (o.batches) {
          const batches = await listBatches(client, config);
          output(
            json(o),
            batches,
            batches.length ? table(batches, ['batchId', 'approval', 'startTime']) : 'No running batches.',
          );
          return EXIT.ok;
        }
        const phase = (o.phase ?? o.state) as RecordPhase | undefined;
        if (phase && !RECORD_PHASES.includes(phase))
          throw new UsageError(`--phase must be one of ${RECORD_PHASES.join(', ')}`);
        for (const [option, name] of [
          ['--team', o.team],
          ['--holder', o.holder],
        ] as const)
          if (name !== undefined && !QUERYABLE_NAME.test(name))
            throw new UsageError(`${option} takes a name of letters, digits, spaces and . @ + - _ only`);
        const records = await listRecords(client, config, { phase, team: o.team, holder: o.holder });
        output(
          json(o),
          records,
          records.length
            ? table(records, ['recordId', 'phase', 'vaultState', 'holder', 'team', 'batchId', 'startTime'])
            : 'No record workflows.',
        );
        return EXIT.ok;
      }),
  )
    .option('--phase <CapaSyncState>', RECORD_PHASES.join(' | '))
    .addOption(new Option('--state <CapaSyncState>').hideHelp())
    .option('--team <NAME>', "the records of a team (the routing file's), CapaTeam")
    .option('--holder <NAME>', 'the records whose lock NAME holds (as the lock endpoint says), CapaLockHolder')
    .option('--batches', 'the running batches and where the approval gate has them (CapaBatchState)')
    .option('--json', 'print JSON');
}

function statusCommand(command: DefineCommand): void {
  command('status', "one record workflow's status", async (config, recordId: string, o: JsonOption) =>
    withClient(config, async (client) => {
      const status = await recordStatus(client, config, recordId).catch(notFound(recordId));
      output(
        json(o),
        status,
        Object.entries(status)
          .map(([k, v]) => `${k.padEnd(16)} ${typeof v === 'object' ? JSON.stringify(v) : (v ?? '')}`)
          .join('\n'),
      );
      return EXIT.ok;
    }),
  )
    .argument('<recordId>')
    .option('--json', 'print JSON');
}

function decisionCommands(command: DefineCommand): void {
  /** An operator's decision on a record or a batch: who and why are required (and audited). */
  const decisionCommand = (
    name: string,
    description: string,
    subject: 'recordId' | 'batchId',
    send: (client: Client, config: AppConfig, id: string, decision: OperatorDecision) => Promise<string>,
  ) =>
    command(name, description, async (config, id: string, o: DecisionOptions) => {
      const decision = { operator: required(o.operator, '--operator'), reason: required(o.reason, '--reason') };
      return withClient(config, async (client) => {
        const result = await send(client, config, id, decision).catch(notFound(id));
        output(json(o), { [subject]: id, result }, `${id}: ${result}`);
        return EXIT.ok;
      });
    })
      .argument(`<${subject}>`)
      .option('--operator <name>', 'who decides (audited)')
      .option('--reason <text>', 'why (audited)')
      .option('--json', 'print JSON');
  const onWait = (message: string) => console.error(`capa-sync: ${message}`);
  for (const [kind, description] of [
    ['force', 'apply now, past the conflict guard; if Vault still locks the record, says so and keeps waiting'],
    ['cancel', 'drop the pending change'],
  ] as const)
    decisionCommand(kind, description, 'recordId', (client, config, id, d) =>
      decide(client, config, kind, id, d, onWait),
    );
  for (const [kind, description] of [
    ['approve', 'let a batch the approval gate holds write (not by the one who started it)'],
    ['reject', 'reject a batch the approval gate holds: nothing of it is written'],
  ] as const)
    decisionCommand(kind, description, 'batchId', (client, config, id, d) =>
      decideBatch(client, config, kind, id, d, onWait),
    );
}
