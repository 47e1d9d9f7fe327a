import type { Command } from 'commander';
import type { Client } from '@temporalio/client';
import type { Duration } from '@temporalio/common';
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
import { sourceLocation } from '../sources/read-source';
import { databaseRole, migrateStore } from '../store/database';
import { silentLogger } from '../observability/logger';
import { runWorker } from '../worker';
import { runSimulator, SIMULATOR_OPTIONS, SimulatorOptions } from '../simulator/main';
import { runDemo } from './demo';
import { DEFAULT_SCHEDULE_ID, upsertSchedule } from '../temporal/schedule';

// The commands that run or set up capa-sync's processes and services: the demo, a worker, the simulator, the store's
// migrations and the nightly Schedule.

export interface ScheduleOptions extends JsonOption {
  source?: string;
  cron: string;
  timezone: string;
  catchup: string;
  id: string;
}

export function registerAdminCommands(command: DefineCommand, program: Command, setCode: (code: number) => void): void {
  program
    .command('demo')
    .description(
      'the main job on the embedded Temporal dev server and Vault simulator (Web UI http://localhost:8233), until Ctrl-C',
    )
    .action(async () => {
      setCode(await runDemo());
    });
  command(
    'worker',
    'run the worker (all workflows and activities), configured from the environment',
    async (config) => {
      await runWorker(config);
      return EXIT.ok;
    },
  );
  const simulator = program
    .command('simulator')
    .description('run the Vault simulator (faults and reviewers scripted, repeatable)');
  for (const [flags, description, fallback] of SIMULATOR_OPTIONS) simulator.option(flags, description, fallback);
  simulator.action(async (o: SimulatorOptions) => {
    await runSimulator(o);
    await new Promise(() => undefined); // serves until killed
  });

  command(
    'db',
    "`db migrate`: brings the store's schema up to date as its owner (CAPA_DATABASE_OWNER_URL) and grants the runtime role of CAPA_DATABASE_URL what it needs",
    async (config, action: string | undefined, o: JsonOption) => {
      if (action !== 'migrate') throw new UsageError('db needs an action: migrate');
      if (!config.databaseOwnerUrl)
        throw new UsageError("db migrate needs CAPA_DATABASE_OWNER_URL (the schema owner's login)");
      const { from, to } = await migrateStore(config.databaseOwnerUrl, config.databaseUrl, silentLogger);
      const role = databaseRole(config.databaseUrl);
      output(
        json(o),
        { from, to, runtimeRole: role },
        from === to
          ? `The store's schema is at version ${to}; privileges of ${role} granted again.`
          : `The store's schema went from version ${from} to ${to}; ${role} granted what it needs.`,
      );
      return EXIT.ok;
    },
  )
    .argument('[action]')
    .option('--json', 'print JSON');

  command(
    'schedule',
    'the nightly Temporal Schedule: create (idempotent) | describe | pause | unpause | trigger | delete',
    async (config, action: string | undefined, o: ScheduleOptions) =>
      withClient(config, (client) => scheduleCommand(client, config, action, o, json(o))),
  )
    .argument('[action]')
    .option('--source <file|url>', 'create: the export every run reads (a URL, or a path every worker can read)')
    .option('--cron <expr>', 'create: when', '0 2 * * *')
    .option('--timezone <tz>', 'create: in which time zone', 'UTC')
    .option('--catchup <duration>', 'create: how late a missed run may still start', '6 hours')
    .option('--id <scheduleId>', 'the schedule', DEFAULT_SCHEDULE_ID)
    .option('--json', 'print JSON');
}

async function scheduleCommand(
  client: Client,
  config: AppConfig,
  action: string | undefined,
  o: ScheduleOptions,
  json: boolean,
): Promise<number> {
  const scheduleId = o.id;
  const handle = client.schedule.getHandle(scheduleId);
  switch (action) {
    case 'create': {
      const source = required(o.source, '--source');
      const result = await upsertSchedule(client, config, {
        scheduleId,
        source: sourceLocation(source),
        cron: o.cron,
        timezone: o.timezone,
        catchupWindow: o.catchup as Duration,
      });
      output(json, { scheduleId, result }, `Schedule ${scheduleId} ${result}`);
      return EXIT.ok;
    }
    case 'describe': {
      const d = await handle.describe().catch(notFound(scheduleId));
      const info = {
        scheduleId,
        spec: d.spec,
        paused: d.state.paused,
        note: d.state.note,
        nextActionTimes: d.info.nextActionTimes,
        recentActions: d.info.recentActions,
      };
      output(json, info, JSON.stringify(info, null, 2));
      return EXIT.ok;
    }
    case 'pause':
    case 'unpause':
    case 'trigger':
    case 'delete':
      await (
        action === 'pause'
          ? handle.pause('paused by capa-sync CLI')
          : action === 'unpause'
            ? handle.unpause()
            : action === 'trigger'
              ? handle.trigger()
              : handle.delete()
      ).catch(notFound(scheduleId));
      output(json, { scheduleId, action }, `Schedule ${scheduleId}: ${action} done`);
      return EXIT.ok;
    default:
      throw new UsageError(`schedule needs an action: create, describe, pause, unpause, trigger or delete`);
  }
}
