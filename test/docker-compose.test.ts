import fs from 'node:fs';
import path from 'node:path';
import { parse } from 'yaml';
import { loadConfig } from '../src/config';
import { WORKER_ENV, WORKER_NODE_ARGS } from '../src/temporal/worker-memory';
import { loadSigner } from '../src/config/load-signer';
import { keyIdOf, readPublicKey } from '../src/audit/signing-key';
import { silentLogger } from '../src/observability/logger';
import { ALL_SEARCH_ATTRIBUTES } from '../src/contracts/search-attributes';

// No Docker engine runs in CI: this keeps docker-compose.yml from rotting by checking what it wires together.
const root = path.join(__dirname, '..');
const compose = parse(fs.readFileSync(path.join(root, 'docker-compose.yml'), 'utf8'));
const services = compose.services as Record<string, Record<string, never>>;

it('has the production-like stack, with pinned official Temporal images', () => {
  expect(Object.keys(services).sort()).toEqual([
    'capa-sync-migrate',
    'capa-sync-worker',
    'postgresql',
    'temporal',
    'temporal-search-attributes',
    'temporal-ui',
    'vault-simulator',
  ]);
  expect(services.temporal.image).toMatch(/^temporalio\/auto-setup:\d+\.\d+\.\d+$/);
  // The cluster suite builds and runs the server of this version (scripts/temporal-server/go.mod).
  const built = /go\.temporal\.io\/server v([\d.]+)/.exec(
    fs.readFileSync(path.join(root, 'scripts/temporal-server/go.mod'), 'utf8'),
  )![1];
  expect(services.temporal.image).toBe(`temporalio/auto-setup:${built}`);
  expect(services['temporal-search-attributes'].image).toBe(services.temporal.image);
  expect(services['temporal-ui'].image).toMatch(/^temporalio\/ui:\d+\.\d+\.\d+$/);
  expect(services.postgresql.image).toMatch(/^postgres:\d+$/);
  expect(services.temporal.environment).toMatchObject({ DB: 'postgres12', POSTGRES_SEEDS: 'postgresql' });
  for (const name of ['capa-sync-worker', 'capa-sync-migrate', 'vault-simulator'])
    expect(services[name].build).toBe('.');
  expect(fs.existsSync(path.join(root, 'Dockerfile'))).toBe(true);
});

it('publishes the Temporal frontend, the Web UI and the simulator; each worker replica exposes its metrics', () => {
  expect(services.temporal.ports).toContain('7233:7233');
  expect(services['temporal-ui'].ports).toContain('8233:8080');
  expect(services['vault-simulator'].ports).toContain('8100:8100');
  expect(services['capa-sync-worker'].ports).toBeUndefined(); // two replicas cannot share a host port
  expect(services['capa-sync-worker'].expose).toContain('9464');
});

it('runs two worker replicas that share nothing but the database: no volume', () => {
  const worker = services['capa-sync-worker'];
  expect(worker.deploy).toEqual({ replicas: 2 });
  expect(worker.volumes).toBeUndefined();
  expect(Object.keys(compose.volumes)).toEqual(['postgresql-data']);
});

it('has compose restart a worker that exits (one started while the database or Temporal was away stops with an error)', () => {
  expect(services['capa-sync-worker'].restart).toBe('unless-stopped');
});

it("gives capa-sync its own database on Temporal's PostgreSQL: an owner that migrates, a login for the workers", () => {
  const pg = services.postgresql;
  expect(pg.volumes).toContain('./deploy/postgres-init:/docker-entrypoint-initdb.d:ro');
  expect(pg.secrets).toEqual(expect.arrayContaining(['capa_db_password', 'capa_db_owner_password']));
  const script = fs.readFileSync(path.join(root, 'deploy/postgres-init/create-capa-sync-database.sh'), 'utf8');
  expect(script).toContain('CREATE USER capa_owner');
  expect(script).toContain('CREATE USER capa_sync');
  expect(script).toContain('CREATE DATABASE capa_sync OWNER capa_owner');
  expect(script).toContain('/run/secrets/capa_db_password');
  expect(script).toContain('/run/secrets/capa_db_owner_password');
  const migrate = services['capa-sync-migrate'];
  expect(migrate.command).toEqual(['db', 'migrate']);
  const migrateEnv = migrate.environment as Record<string, string>;
  expect(new URL(migrateEnv.CAPA_DATABASE_OWNER_URL)).toMatchObject({ username: 'capa_owner', password: '' });
  expect(new URL(migrateEnv.CAPA_DATABASE_URL).username).toBe('capa_sync');
  expect(migrate.secrets).toEqual(['capa_db_owner_password']);
  // The workers never see the owner's login.
  expect(JSON.stringify(services['capa-sync-worker'])).not.toMatch(/owner/);
  expect(fs.statSync(path.join(root, 'deploy/postgres-init/create-capa-sync-database.sh')).mode & 0o111).toBeTruthy();
  const env = services['capa-sync-worker'].environment as Record<string, string>;
  expect(new URL(env.CAPA_DATABASE_URL)).toMatchObject({ hostname: 'postgresql', username: 'capa_sync', password: '' });
  expect(services['capa-sync-worker'].secrets).toContain('capa_db_password');
});

it('starts services only after what they need is healthy, and every awaited service has a healthcheck', () => {
  for (const [name, service] of Object.entries(services)) {
    for (const [dependency, { condition }] of Object.entries(
      (service.depends_on ?? {}) as Record<string, { condition: string }>,
    )) {
      expect(services[dependency]).toBeDefined();
      if (condition === 'service_healthy')
        expect([name, services[dependency].healthcheck]).toEqual([name, expect.anything()]);
      else expect([name, condition]).toEqual([name, 'service_completed_successfully']);
    }
  }
  expect(Object.keys(services['capa-sync-worker'].depends_on)).toEqual([
    'capa-sync-migrate',
    'temporal-search-attributes',
    'vault-simulator',
  ]);
});

it('creates every custom search attribute at start', () => {
  const script = (services['temporal-search-attributes'].command as string[]).join(' ');
  for (const key of ALL_SEARCH_ATTRIBUTES) expect(script).toContain(key.name);
  expect(script).toContain('--type Keyword');
});

it('gives the worker a configuration the real loader accepts, with the password from a secret file', () => {
  const env = services['capa-sync-worker'].environment as Record<string, string>;
  const secretFile = path.join(root, (compose.secrets.vault_password as { file: string }).file);
  const dbSecretFile = path.join(root, (compose.secrets.capa_db_password as { file: string }).file);
  const keyFile = path.join(root, (compose.secrets.capa_audit_signing_key as { file: string }).file);
  const config = loadConfig({
    ...env,
    VAULT_PASSWORD_FILE: secretFile,
    CAPA_DATABASE_PASSWORD_FILE: dbSecretFile,
    CAPA_AUDIT_SIGNING_KEY_FILE: keyFile,
    CAPA_DATA_DIR: '/tmp/capa-compose-check',
  });
  expect(new URL(config.databaseUrl).password).toBe('capa-sync-local');
  // Both replicas sign with the one key of the secret: an auditor checks every head with its public half.
  expect(services['capa-sync-worker'].secrets).toContain('capa_audit_signing_key');
  expect(loadSigner(config.audit, silentLogger).keyId).toBe(
    keyIdOf(readPublicKey(keyFile.replace(/\.pem$/, '.pub.pem'))),
  );
  expect(config.temporal.address).toBe('temporal:7233');
  expect(config.vault.baseUrl).toBe('http://vault-simulator:8100');
  expect(config.vault.password).toBe('simulator');
  expect(env).not.toHaveProperty('VAULT_PASSWORD');
  expect(config.metricsPort).toBe(Number((services['capa-sync-worker'].expose as string[])[0]));
});

it('starts the worker (image and npm run worker) with the memory settings the bench measured', () => {
  const dockerfile = fs.readFileSync(path.join(root, 'Dockerfile'), 'utf8');
  const script = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8')).scripts.worker as string;
  for (const [name, value] of Object.entries(WORKER_ENV)) {
    expect(dockerfile).toContain(`${name}=${value}`);
    expect(script).toContain(`${name}=${value} node`);
  }
  expect(dockerfile).toContain(`NODE_OPTIONS="${WORKER_NODE_ARGS.join(' ')}"`);
  expect(script).toContain(`node ${WORKER_NODE_ARGS.join(' ')} bin/capa-sync.js worker`);
});
