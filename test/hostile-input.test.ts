import { spawn } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { ApplicationFailure, WorkflowFailedError } from '@temporalio/client';
import type { Store } from '../src/store/store';
import { AppConfig } from '../src/config';
import { BatchIdRefused, startBatch } from '../src/cli/operations';
import { VaultSimulator } from '../src/simulator/server';
import { sampleRecordId, sampleRecords } from '../src/simulator/seed';
import { onTaskQueue, testConfig } from './helpers/config';
import { testStore } from './helpers/postgres';
import { startDevServer } from './helpers/temporal';
import { startSimulator } from './helpers/vault';
import { waitFor } from './helpers/wait';
import { captureWebhook, WebhookCapture } from './helpers/webhook';
import { CLI, startWorkerProcess, WorkerProcess } from './helpers/worker-process';

// Hostile inputs through a real worker process (256 MB heap, as `npm run worker` runs it), the real simulator and
// real files and HTTP sources: each gets a clear answer naming the problem, valid rows are applied, bad rows are in
// the report, a bad source fails the batch at once with an alert, and the worker never goes down.

const TASK_QUEUE = 'hostile';
const MAX_SOURCE_BYTES = 5_000_000;
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'capa-hostile-'));
let env: TestWorkflowEnvironment;
let sim: VaultSimulator;
let config: AppConfig;
let store: Store;
let worker: WorkerProcess;
let sources: http.Server;
let sourcesUrl = '';
let hook: WebhookCapture;

const MAPPING = {
  idColumn: 'capa_id',
  timestampColumn: 'exported_at',
  columns: {
    priority: { field: 'priority__c', type: 'picklist', values: ['High', 'Medium', 'Low'] },
    risk_score: { field: 'risk_score__c', type: 'number', min: 0, max: 100 },
    due_date: { field: 'due_date__c', type: 'date' },
    description: { field: 'description__c', type: 'text', maxLength: 32000 },
  },
};
let workerEnv: Record<string, string>;
const ALLOWED = new Set(Object.values(MAPPING.columns).map((c) => c.field));

/** The routes of the local HTTP server that plays the risk system's export endpoint. */
const routes: Record<string, (req: http.IncomingMessage, res: http.ServerResponse) => void> = {};

async function listen(server: http.Server): Promise<string> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

beforeAll(async () => {
  env = await startDevServer();
  sim = await startSimulator();
  sim.store.seed(sampleRecords({ count: 400, lockedFraction: 0 }));
  hook = await captureWebhook();
  sources = http.createServer((req, res) => {
    const route = routes[req.url ?? ''];
    if (route) route(req, res);
    else res.writeHead(404).end('not found');
  });
  sourcesUrl = await listen(sources);
  fs.writeFileSync(path.join(dir, 'mapping.json'), JSON.stringify(MAPPING));
  const settings = {
    TEMPORAL_ADDRESS: env.address,
    TEMPORAL_TASK_QUEUE: TASK_QUEUE,
    CAPA_MAPPING_FILE: path.join(dir, 'mapping.json'),
    CAPA_SOURCE_MAX_BYTES: String(MAX_SOURCE_BYTES),
    ALERT_CHANNEL: 'webhook',
    ALERT_WEBHOOK_URL: hook.url,
  };
  config = await testConfig(sim, settings);
  store = await testStore(config.databaseUrl);
  workerEnv = {
    ...settings,
    VAULT_BASE_URL: sim.baseUrl,
    CAPA_DATA_DIR: config.dataDir,
    CAPA_DATABASE_URL: config.databaseUrl,
  };
  worker = await startWorkerProcess(workerEnv);
});

afterAll(async () => {
  worker?.child.kill('SIGKILL');
  sources?.closeAllConnections();
  sources?.close();
  hook?.close();
  await sim?.stop();
  await env?.teardown();
});

type Row = Record<string, string>;
const row = (i: number, overrides: Row = {}): Row => ({
  capa_id: sampleRecordId(i),
  priority: 'Low',
  risk_score: String(i % 100),
  due_date: '2027-03-31',
  exported_at: '2026-11-24T02:00:00Z',
  description: `risk review ${i}`,
  ...overrides,
});
const csvOf = (rows: Row[], eol = '\n') =>
  [Object.keys(rows[0]).join(','), ...rows.map((r) => Object.values(r).join(','))].join(eol) + eol;
function file(name: string, content: string | Buffer): string {
  const p = path.join(dir, name);
  fs.writeFileSync(p, content);
  return p;
}

type Expectation =
  | { fails: RegExp }
  | {
      /** Record indexes whose rows are valid: Vault must hold their values afterwards. */
      applied: number[];
      /** [row, field, reason] of each rejected row. */
      rejected?: Array<[number, string, RegExp]>;
      superseded?: number;
      ignoredColumns?: string[];
    };

interface Case {
  name: string;
  source: () => string;
  expect: Expectation;
}

let next = 0;
/** Record indexes of their own for each case, so that "applied" means this case's values. */
const ids = (n: number) => Array.from({ length: n }, () => next++);

function csvCase(name: string, build: (i: number[]) => { content: string | Buffer; expect: Expectation }): Case {
  const indexes = ids(3);
  const { content, expect } = build(indexes);
  return { name, source: () => file(`${name.replace(/\W+/g, '-')}.csv`, content), expect };
}
function jsonCase(name: string, ext: string, build: (i: number[]) => { content: string; expect: Expectation }): Case {
  const indexes = ids(3);
  const { content, expect } = build(indexes);
  return { name, source: () => file(`${name.replace(/\W+/g, '-')}.${ext}`, content), expect };
}
function urlCase(name: string, route: string, handler: (typeof routes)[string], expect: Expectation): Case {
  routes[route] = handler;
  return { name, source: () => `${sourcesUrl}${route}`, expect };
}

const json = (rows: Row[]) => JSON.stringify(rows);
const CASES: Case[] = [
  // CSV shapes
  csvCase('BOM and CRLF', ([a, b]) => ({
    content: '\uFEFF' + csvOf([row(a), row(b)], '\r\n'),
    expect: { applied: [a, b] },
  })),
  csvCase('CR-only line ends', ([a, b, c]) => ({
    content: csvOf([row(a), row(b), row(c)], '\r'),
    expect: { applied: [a, b, c] },
  })),
  csvCase('quoted commas, quotes and newlines', ([a, b]) => ({
    content: csvOf([row(a, { description: '"one, ""two""\nthree"' }), row(b)]),
    expect: { applied: [a, b] },
  })),
  csvCase('a ragged row', ([a, b]) => ({
    content: csvOf([row(a)]) + `${sampleRecordId(b)},High\n`,
    expect: { applied: [a], rejected: [[2, '*', /has 2 cells, the header has 6 \(line 3\)/]] },
  })),
  csvCase('an injection-looking id', ([a]) => ({
    content: csvOf([row(a), row(0, { capa_id: "x') OR id CONTAINS ('y" })]),
    expect: { applied: [a], rejected: [[2, 'capa_id', /invalid record id/]] },
  })),
  csvCase('unknown columns', ([a]) => ({
    content: csvOf([row(a, { comment: 'not ours', lifecycle__v: 'x' })]),
    expect: { applied: [a], ignoredColumns: ['comment', 'lifecycle__v'] },
  })),
  csvCase('a 1 MB cell', ([a, b]) => ({
    content: csvOf([row(a), row(b, { description: 'x'.repeat(1_000_000) })]),
    expect: { applied: [a], rejected: [[2, 'description', /cell longer than 100000 characters \(line 3\)/]] },
  })),
  csvCase('a quoted field never closed', ([a]) => ({
    content: csvOf([row(a)]) + `${sampleRecordId(a)},"High,1\n`,
    expect: { fails: /line 3: quoted field not closed/ },
  })),
  csvCase('an empty file', () => ({ content: '', expect: { fails: /the source has no rows/ } })),
  csvCase('a header and no rows', () => ({
    content: 'capa_id,priority\n',
    expect: { fails: /the source has no rows/ },
  })),
  csvCase('a duplicated column', ([a]) => ({
    content: `capa_id,priority,priority,exported_at\n${sampleRecordId(a)},High,Low,2026-11-24T02:00:00Z\n`,
    expect: { fails: /line 1: column priority appears twice/ },
  })),
  csvCase('a header with terminal escapes', ([a]) => ({
    content: csvOf([row(a, { '\u001b[31mred\u001b[0m': 'x' })]),
    expect: { applied: [a], ignoredColumns: ['"\\u001b[31mred\\u001b[0m"'] },
  })),
  csvCase('invalid UTF-8', ([a, b]) => {
    const [before, after] = csvOf([row(a), row(b, { description: 'BAD' })]).split('BAD');
    return {
      content: Buffer.concat([Buffer.from(before), Buffer.from([0xff, 0xfe]), Buffer.from(after)]),
      expect: { applied: [a], rejected: [[2, 'description', /not valid UTF-8/]] },
    };
  }),
  // Values Vault must never get
  csvCase('the date 0000-01-01', ([a, b]) => ({
    content: csvOf([row(a), row(b, { due_date: '0000-01-01' })]),
    expect: { applied: [a], rejected: [[2, 'due_date', /must not be before 1900-01-01/]] },
  })),
  csvCase('the date 2026-02-31', ([a, b]) => ({
    content: csvOf([row(a), row(b, { due_date: '2026-02-31' })]),
    expect: { applied: [a], rejected: [[2, 'due_date', /is not a real date/]] },
  })),
  csvCase('a NUL in text', ([a, b]) => ({
    content: csvOf([row(a), row(b, { description: 'a\u0000b' })]),
    expect: { applied: [a], rejected: [[2, 'description', /control character/]] },
  })),
  csvCase('an ESC in text', ([a, b]) => ({
    content: csvOf([row(a), row(b, { description: 'a\u001b[2Jb' })]),
    expect: { applied: [a], rejected: [[2, 'description', /control character/]] },
  })),
  csvCase('a spreadsheet formula', ([a, b]) => ({
    content: csvOf([row(a), row(b, { description: '=HYPERLINK("http://x")' })]),
    expect: { applied: [a], rejected: [[2, 'description', /spreadsheet formula/]] },
  })),
  csvCase('exported_at of 1', ([a, b]) => ({
    content: csvOf([row(a), row(b, { exported_at: '1' })]),
    expect: { applied: [a], rejected: [[2, 'exported_at', /ISO 8601 time with a zone/]] },
  })),
  csvCase('exported_at of 2026-02-31', ([a, b]) => ({
    content: csvOf([row(a), row(b, { exported_at: '2026-02-31T01:00:00Z' })]),
    expect: { applied: [a], rejected: [[2, 'exported_at', /ISO 8601 time with a zone/]] },
  })),
  csvCase('exported_at without a zone', ([a, b]) => ({
    content: csvOf([row(a), row(b, { exported_at: '2026-11-24T02:00:00' })]),
    expect: { applied: [a], rejected: [[2, 'exported_at', /ISO 8601 time with a zone/]] },
  })),
  csvCase('a picklist value Vault does not have', ([a, b]) => ({
    content: csvOf([row(a), row(b, { priority: 'Urgent' })]),
    expect: { applied: [a], rejected: [[2, 'priority', /must be one of High, Medium, Low/]] },
  })),
  csvCase('numbers out of range or not numbers', ([a, b, c]) => ({
    content: csvOf([row(a), row(b, { risk_score: '101' }), row(c, { risk_score: '1e3' })]),
    expect: {
      applied: [a],
      rejected: [
        [2, 'risk_score', /at most 100/],
        [3, 'risk_score', /must be a number/],
      ],
    },
  })),
  csvCase('a missing id', ([a]) => ({
    content: csvOf([row(a), row(0, { capa_id: '' })]),
    expect: { applied: [a], rejected: [[2, 'capa_id', /record id is missing/]] },
  })),
  csvCase('a record twice (the later row wins)', ([a]) => ({
    content: csvOf([row(a, { priority: 'High' }), row(a)]),
    expect: { applied: [a], superseded: 1 },
  })),
  csvCase('a row with no mapped value', ([a, b]) => ({
    content: csvOf([row(a), row(b, { priority: '', risk_score: '', due_date: '', description: '' })]),
    expect: { applied: [a], rejected: [[2, '*', /no mapped field has a value/]] },
  })),
  // JSON and JSON Lines
  jsonCase('a JSON array', 'json', ([a, b]) => ({ content: json([row(a), row(b)]), expect: { applied: [a, b] } })),
  jsonCase('JSON that is not an array', 'json', ([a]) => ({
    content: JSON.stringify(row(a)),
    expect: { fails: /a JSON source must be an array of objects/ },
  })),
  jsonCase('a JSON array never closed', 'json', ([a]) => ({
    content: json([row(a)]).slice(0, -1),
    expect: { fails: /the JSON array is not closed/ },
  })),
  jsonCase('an object after the closing ]', 'json', ([a, b]) => ({
    content: json([row(a)]) + JSON.stringify(row(b)),
    expect: { fails: /content after the closing \] of the JSON array \(after element 1\)/ },
  })),
  jsonCase('a 10 MB string', 'json', ([a, b]) => ({
    content: json([row(a), row(b, { description: 'y'.repeat(10_000_000) })]),
    expect: { applied: [a], rejected: [[2, '*', /row longer than 400000 characters/]] },
  })),
  jsonCase('elements that are not objects', 'json', ([a]) => ({
    content: `[${JSON.stringify(row(a))}, 42, "text", null]`,
    expect: {
      applied: [a],
      rejected: [
        [2, '*', /not a JSON object/],
        [3, '*', /not a JSON object/],
        [4, '*', /not a JSON object/],
      ],
    },
  })),
  jsonCase('a malformed element', 'json', ([a]) => ({
    content: `[${JSON.stringify(row(a))}, {"capa_id": }]`,
    expect: { applied: [a], rejected: [[2, '*', /not valid JSON/]] },
  })),
  jsonCase('an empty array', 'json', () => ({ content: '[]', expect: { fails: /the source has no rows/ } })),
  jsonCase('a value that is an object', 'json', ([a, b]) => ({
    content: JSON.stringify([row(a), { ...row(b), priority: { $ne: 1 } }]),
    expect: { applied: [a], rejected: [[2, 'priority', /Expected string/]] },
  })),
  jsonCase('JSON Lines with blank and broken lines', 'jsonl', ([a, b]) => ({
    content: `${JSON.stringify(row(a))}\n\n{"capa_id": \n${JSON.stringify(row(b))}\n`,
    expect: { applied: [a, b], rejected: [[2, '*', /not valid JSON/]] },
  })),
  // Files that are not sources
  { name: 'a missing path', source: () => path.join(dir, 'nowhere.csv'), expect: { fails: /source file not found/ } },
  { name: 'a directory', source: () => dir, expect: { fails: /source is not a file/ } },
  {
    name: 'an unknown extension',
    source: () => file('export.txt', 'a,b\n'),
    expect: { fails: /unknown source format/ },
  },
  // URL sources
  urlCase('a URL answering 404', '/404', (_req, res) => res.writeHead(404).end(), { fails: /answered HTTP 404/ }),
  urlCase(
    'a URL answering a web page',
    '/html',
    (_req, res) => res.writeHead(200, { 'Content-Type': 'text/html' }).end('<html>'),
    {
      fails: /answered a web page \(text\/html\)/,
    },
  ),
  urlCase('a redirect loop', '/loop', (_req, res) => res.writeHead(302, { Location: '/loop' }).end(), {
    fails: /redirects too many times/,
  }),
  urlCase(
    'an endless body',
    '/endless',
    (_req, res) => {
      res.writeHead(200, { 'Content-Type': 'text/csv' });
      const chunk = 'x'.repeat(64 * 1024);
      const pump = () => {
        while (!res.destroyed && res.write(chunk));
        if (!res.destroyed) res.once('drain', pump);
      };
      pump();
    },
    { fails: /larger than 5000000 bytes \(CAPA_SOURCE_MAX_BYTES\)/ },
  ),
  (() => {
    const [a, b] = ids(2);
    let calls = 0;
    return urlCase(
      'a URL that answers 503 once',
      '/flaky',
      (_req, res) => {
        if (calls++ === 0) res.writeHead(503).end('busy');
        else res.writeHead(200, { 'Content-Type': 'text/csv' }).end(csvOf([row(a), row(b)]));
      },
      { applied: [a, b] },
    );
  })(),
  (() => {
    const [a] = ids(1);
    // 25 s for one row: longer than the heartbeat timeout, so the download must heartbeat as it reads.
    return urlCase(
      'a URL that trickles for 25 s',
      '/trickle',
      (_req, res) => {
        res.writeHead(200, { 'Content-Type': 'text/csv' });
        const text = csvOf([row(a)]);
        let sent = 0;
        const timer = setInterval(() => {
          const piece = text.slice(sent, sent + Math.ceil(text.length / 25));
          sent += piece.length;
          res.write(piece);
          if (sent >= text.length) {
            clearInterval(timer);
            res.end();
          }
        }, 1000);
      },
      { applied: [a] },
    );
  })(),
];

const batchIds = new Map<string, string>();
const summaries = new Map<string, Awaited<ReturnType<typeof runCase>>>();

async function runCase(c: Case, batchId: string) {
  const started = Date.now();
  const handle = await startBatch(env.client, config, { source: c.source(), batchId });
  const result = await handle.result().then(
    (summary) => ({ summary, error: undefined }),
    (error: unknown) => ({ summary: undefined, error }),
  );
  return { ...result, seconds: (Date.now() - started) / 1000 };
}

describe.each(CASES.map((c, i) => [c.name, c, i] as const))('%s', (_name, c, i) => {
  it(`is handled: ${'fails' in c.expect ? 'the batch fails at once, naming the problem' : 'valid rows applied, bad rows reported'}`, async () => {
    const batchId = `hostile-${i}`;
    batchIds.set(c.name, batchId);
    const outcome = await runCase(c, batchId);
    summaries.set(c.name, outcome);
    const expected = c.expect;
    if ('fails' in expected) {
      expect(outcome.error).toBeInstanceOf(WorkflowFailedError);
      const cause = (outcome.error as WorkflowFailedError).cause?.cause as ApplicationFailure;
      expect(cause).toBeInstanceOf(ApplicationFailure);
      expect(cause.message).toMatch(expected.fails);
      expect(cause).toMatchObject({ type: 'SourceError', nonRetryable: true });
      await waitFor('the failure alert', async () =>
        hook.bodies.some((a) => a.fields.batchId === batchId && expected.fails.test(String(a.fields.reason))),
      );
      return;
    }
    expect(outcome.error).toBeUndefined();
    const summary = outcome.summary!;
    const rejected = await store.batches.firstResults(summary.batchId, ['rejected'], 1000);
    expect(rejected.map((r) => [r.row, r.field])).toEqual((expected.rejected ?? []).map(([r, f]) => [r, f]));
    rejected.forEach((r, k) => expect(r.message).toMatch(expected.rejected![k][2]));
    expect(summary.counts.superseded).toBe(expected.superseded ?? 0);
    expect(summary.counts.updated + summary.counts.unchanged).toBe(expected.applied.length);
    for (const index of expected.applied)
      expect(sim.store.records.get(sampleRecordId(index))!.fields.risk_score__c).toBe(index % 100);
    if (expected.ignoredColumns) expect(summary.ignoredColumns).toEqual(expected.ignoredColumns);
  });
});

describe('the whole run', () => {
  it('wrote nothing outside the allow-list and never took the worker down', () => {
    const fields = new Set(sim.store.audit.filter((a) => a.user === 'sync.user@example.com').map((a) => a.field));
    expect([...fields].filter((f) => !ALLOWED.has(f))).toEqual([]);
    expect(worker.child.exitCode).toBeNull();
    expect(worker.log()).not.toMatch(/heap out of memory|"error":\{\}/);
    const slowest = [...summaries.entries()].sort((a, b) => b[1].seconds - a[1].seconds)[0];
    const peakKb = Number(/VmHWM:\s+(\d+)/.exec(fs.readFileSync(`/proc/${worker.child.pid}/status`, 'utf8'))?.[1]);
    console.log(
      `hostile inputs: ${CASES.length} cases, slowest ${slowest[0]} in ${slowest[1].seconds} s; worker peak RSS ${Math.round(peakKb / 1024)} MB`,
    );
  });
});

describe('a URL source with credentials', () => {
  it('never shows its user, password or query in the failure, the alert or the worker log', async () => {
    routes['/private?token=s3cr3t-token'] = (_req, res) => res.writeHead(403).end();
    const source = sourcesUrl.replace('http://', 'http://risk-user:pa55word@') + '/private?token=s3cr3t-token';
    const outcome = await runCase(
      { name: 'private', source: () => source, expect: { fails: /403/ } },
      'hostile-url-secret',
    );
    const message = String(((outcome.error as WorkflowFailedError).cause?.cause as Error).message);
    expect(message).toMatch(/\/private\?… answered HTTP 403/);
    await waitFor('the failure alert', async () => hook.bodies.some((a) => a.fields.batchId === 'hostile-url-secret'));
    const shown = [message, JSON.stringify(hook.bodies), worker.log()].join('\n');
    for (const secret of ['s3cr3t-token', 'pa55word', 'risk-user']) expect(shown).not.toContain(secret);
  });
});

describe('an abandoned download', () => {
  it('stops reading when its batch is terminated: the cancellation reaches the reader', async () => {
    let closed = false;
    let started = false;
    routes['/forever'] = (_req, res) => {
      started = true;
      res.writeHead(200, { 'Content-Type': 'text/csv' });
      res.write('capa_id,priority\n');
      const timer = setInterval(() => res.write(`${sampleRecordId(1)},High\n`), 200);
      res.on('close', () => {
        clearInterval(timer);
        closed = true;
      });
    };
    const handle = await startBatch(env.client, config, {
      source: `${sourcesUrl}/forever`,
      batchId: 'hostile-forever',
    });
    await waitFor('the download to start', async () => started);
    await handle.terminate('operator stopped it');
    await waitFor('the download to stop', async () => closed, 40_000);
  });
});

describe('batch ids', () => {
  it('refuses an id that would need escaping, and an id already used', async () => {
    const source = file('ids.csv', csvOf([row(ids(1)[0])]));
    await expect(startBatch(env.client, config, { source, batchId: 'col/1' })).rejects.toThrow(BatchIdRefused);
    await (await startBatch(env.client, config, { source, batchId: 'col_1' })).result();
    const again = await startBatch(env.client, config, { source, batchId: 'col_1' }).catch((e) => e);
    expect(again).toBeInstanceOf(BatchIdRefused);
    expect(again.message).toMatch(/batch id col_1 is already used/);
  });
});

describe('a wrong Vault password', () => {
  it('is tried once, alerted once, and not retried into a lockout', async () => {
    const wrong = await startWorkerProcess({
      ...workerEnv,
      TEMPORAL_TASK_QUEUE: 'hostile-auth',
      VAULT_PASSWORD: 'not-it',
    });
    try {
      const authBefore = sim.calls.auth ?? 0;
      const source = file('auth.csv', csvOf([row(ids(1)[0])]));
      const handle = await startBatch(env.client, onTaskQueue(config, 'hostile-auth'), {
        source,
        batchId: 'hostile-auth',
      });
      await waitFor('the refusal', async () => wrong.log().includes('vault refused the credentials'), 30_000);
      await new Promise((resolve) => setTimeout(resolve, 12_000)); // the page activity retries meanwhile
      expect((sim.calls.auth ?? 0) - authBefore).toBe(1);
      expect(hook.bodies.filter((a) => a.title === 'capa-sync: Vault refused the credentials')).toHaveLength(1);
      expect(wrong.log().match(/vault refused the credentials/g)).toHaveLength(1);
      expect(wrong.log()).not.toContain('not-it');
      await handle.terminate('test over');
    } finally {
      wrong.child.kill('SIGKILL');
    }
  });
});

describe('the command line', () => {
  /** Runs the CLI without blocking this process, which serves the simulator and the alert webhook. */
  const cli = (args: string[], extra: Record<string, string> = {}) =>
    new Promise<{ status: number | null; stderr: string }>((resolve) => {
      const child = spawn('node', [CLI, ...args], {
        env: {
          ...process.env,
          TEMPORAL_ADDRESS: env.address,
          TEMPORAL_TASK_QUEUE: TASK_QUEUE,
          VAULT_BASE_URL: sim.baseUrl,
          CAPA_DATABASE_URL: config.databaseUrl,
          ...extra,
        },
      });
      let stderr = '';
      child.stderr.on('data', (d) => (stderr += d));
      child.on('exit', (status) => resolve({ status, stderr }));
    });

  it('prints the cause of a failed batch and exits 1', async () => {
    const source = file('unclosed.csv', `capa_id,priority\n${sampleRecordId(1)},"High\n`);
    const run = await cli(['run', '--source', source, '--batch-id', 'cli-unclosed']);
    expect(run).toMatchObject({ status: 1, stderr: expect.stringMatching(/line 2: quoted field not closed/) });
  });

  it('refuses a malformed batch id with exit 2', async () => {
    const run = await cli(['run', '--source', file('x.csv', 'a\n'), '--batch-id', 'a/b']);
    expect(run.status).toBe(2);
    expect(run.stderr).toMatch(/invalid batch id "a\/b"/);
  });

  it('says which Temporal address the worker could not reach', async () => {
    const run = await cli(['worker'], { TEMPORAL_ADDRESS: '127.0.0.1:1' });
    expect(run.status).toBe(1);
    expect(run.stderr).toMatch(/cannot reach Temporal at 127.0.0.1:1: check TEMPORAL_ADDRESS/);
    expect(run.stderr).not.toMatch(/tonic|transport/);
  });

  it('says which Temporal address it could not reach', async () => {
    const run = await cli(['list'], { TEMPORAL_ADDRESS: '127.0.0.1:1' });
    expect(run.status).toBe(1);
    expect(run.stderr).toMatch(/cannot reach Temporal at 127.0.0.1:1: check TEMPORAL_ADDRESS/);
    expect(run.stderr).not.toMatch(/tonic|transport/);
  });
});
