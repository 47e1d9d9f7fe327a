import { parseArgs } from 'node:util';
import { seededRandom } from './faults';
import { scheduleReviews } from './reviewers';
import { DEFAULT_PASSWORD, DEFAULT_USERNAME } from '../embedded-defaults';
import { VaultSimulator } from './server';
import { sampleRecords } from './seed';

/**
 * `npm run simulator -- --port 8100 --records 2000 --locked-fraction 0.1 [--dialect customer]`, and to reproduce a
 * run: `--seed 7 --faults '{"serverErrorRate":0.02,"lostAnswerRate":0.03}' --review-within-seconds 300
 * --edit-fraction 0.02` (reviewers approve every locked record within 5 minutes, editing 2% of them first).
 */
export async function runSimulator(argv: string[]): Promise<VaultSimulator> {
  const { values } = parseArgs({
    args: argv,
    options: {
      port: { type: 'string', default: process.env.SIMULATOR_PORT ?? '8100' },
      records: { type: 'string', default: '2000' },
      'locked-fraction': { type: 'string', default: '0.1' },
      dialect: { type: 'string', default: process.env.SIMULATOR_DIALECT ?? 'documented' },
      username: { type: 'string', default: process.env.SIMULATOR_USERNAME ?? DEFAULT_USERNAME },
      password: { type: 'string', default: process.env.SIMULATOR_PASSWORD ?? DEFAULT_PASSWORD },
      'latency-ms': { type: 'string', default: '0' },
      seed: { type: 'string', default: '42' },
      faults: { type: 'string', default: '{}' },
      'review-within-seconds': { type: 'string' },
      'edit-fraction': { type: 'string', default: '0' },
    },
  });
  const seed = Number(values.seed);
  const dialect = values.dialect === 'customer' ? 'customer' : 'documented';
  const simulator = new VaultSimulator({
    dialect,
    username: values.username,
    password: values.password,
    seed,
    faults: { latencyMs: Number(values['latency-ms']), ...JSON.parse(values.faults) },
  });
  simulator.store.seed(
    sampleRecords({ count: Number(values.records), lockedFraction: Number(values['locked-fraction']) }),
  );
  if (values['review-within-seconds']) {
    scheduleReviews(simulator.store, {
      withinMs: Number(values['review-within-seconds']) * 1000,
      editFraction: Number(values['edit-fraction']),
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

if (require.main === module) {
  runSimulator(process.argv.slice(2)).then(
    (sim) => process.on('SIGINT', () => void sim.stop().then(() => process.exit(0))),
    (err) => {
      console.error(`simulator: ${(err as Error).message}`);
      process.exit(1);
    },
  );
}
