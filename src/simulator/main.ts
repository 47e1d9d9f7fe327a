import { parseArgs } from 'node:util';
import { DEFAULT_PASSWORD, DEFAULT_USERNAME, VaultSimulator } from './server';
import { sampleRecords } from './seed';

/** `npm run simulator -- --port 8100 --records 2000 --locked-fraction 0.1 [--dialect customer]` */
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
    },
  });
  const dialect = values.dialect === 'customer' ? 'customer' : 'documented';
  const simulator = new VaultSimulator({
    dialect,
    username: values.username,
    password: values.password,
    faults: { latencyMs: Number(values['latency-ms']) },
  });
  simulator.store.seed(
    sampleRecords({ count: Number(values.records), lockedFraction: Number(values['locked-fraction']) }),
  );
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
