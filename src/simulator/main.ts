import { seededRandom } from './faults';
import { scheduleReviews } from './reviewers';
import { DEFAULT_PASSWORD, DEFAULT_USERNAME } from './default-login';
import { VaultSimulator } from './server';
import { sampleRecords } from './seed';

export interface SimulatorOptions {
  port: string;
  records: string;
  lockedFraction: string;
  dialect: string;
  username: string;
  password: string;
  latencyMs: string;
  seed: string;
  faults: string;
  reviewWithinSeconds?: string;
  editFraction: string;
}

/** The `simulator` command's options, with their defaults (some from the environment, for containers). */
export const SIMULATOR_OPTIONS: Array<[flags: string, description: string, fallback?: string]> = [
  ['--port <port>', 'port to listen on', process.env.SIMULATOR_PORT ?? '8100'],
  ['--records <n>', 'sample CAPA records to seed', '2000'],
  ['--locked-fraction <f>', 'share of them locked (Under Review, Pending Approval)', '0.1'],
  ['--dialect <name>', 'documented | customer', process.env.SIMULATOR_DIALECT ?? 'documented'],
  ['--username <name>', 'the login it accepts', process.env.SIMULATOR_USERNAME ?? DEFAULT_USERNAME],
  ['--password <secret>', 'the password it accepts', process.env.SIMULATOR_PASSWORD ?? DEFAULT_PASSWORD],
  ['--latency-ms <ms>', 'added to every call', '0'],
  ['--seed <n>', 'makes faults and reviewers repeatable', '42'],
  ['--faults <json>', 'e.g. \'{"serverErrorRate":0.02,"lostAnswerRate":0.03}\'', '{}'],
  ['--review-within-seconds <s>', 'reviewers approve every locked record within s seconds'],
  ['--edit-fraction <f>', 'share of those they edit by hand first', '0'],
];

/**
 * Starts the simulator: `capa-sync simulator --records 2000 --locked-fraction 0.1 [--dialect customer]`, and to
 * reproduce a run `--seed 7 --faults '{"serverErrorRate":0.02,"lostAnswerRate":0.03}' --review-within-seconds 300
 * --edit-fraction 0.02` (reviewers approve every locked record within 5 minutes, editing 2% of them first).
 */
export async function runSimulator(values: SimulatorOptions): Promise<VaultSimulator> {
  const seed = Number(values.seed);
  const dialect = values.dialect === 'customer' ? 'customer' : 'documented';
  const simulator = new VaultSimulator({
    dialect,
    username: values.username,
    password: values.password,
    seed,
    faults: { latencyMs: Number(values.latencyMs), ...JSON.parse(values.faults) },
  });
  simulator.store.seed(sampleRecords({ count: Number(values.records), lockedFraction: Number(values.lockedFraction) }));
  if (values.reviewWithinSeconds) {
    scheduleReviews(simulator.store, {
      withinMs: Number(values.reviewWithinSeconds) * 1000,
      editFraction: Number(values.editFraction),
      editOf: () => ({ risk_score__c: 100 }),
      random: seededRandom(seed + 1),
    });
  }
  const url = await simulator.start(Number(values.port), process.env.SIMULATOR_HOST ?? '127.0.0.1');
  console.log(
    JSON.stringify({
      message: 'vault simulator listening',
      url,
      dialect,
      records: simulator.store.records.size,
      username: values.username,
    }),
  );
  return simulator;
}
