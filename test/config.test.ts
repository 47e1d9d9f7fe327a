import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ConfigError, loadConfig, SETTINGS } from '../src/config';
import { DEFAULT_MAPPING } from '../src/sources/mapping';
import type { TLSConfig } from '@temporalio/client';
import { TEMPORAL_CONNECTION_SETTINGS } from '../src/config/temporal-settings';

const problem = (env: Record<string, string>) => {
  try {
    loadConfig(env);
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return (err as Error).message;
  }
  throw new Error('configuration was accepted');
};

it('runs on the embedded defaults with no setting at all', () => {
  const config = loadConfig({});
  expect(config.temporal).toMatchObject({
    address: 'localhost:7233',
    namespace: 'default',
    taskQueue: 'capa-sync',
    controlTaskQueue: 'capa-sync-control',
    options: { address: 'localhost:7233', tls: undefined },
  });
  expect(config.vault).toMatchObject({
    baseUrl: 'http://127.0.0.1:8100',
    object: 'capa__c',
    dialect: { objectPath: 'vobjects' },
  });
  expect(config.record.tickScheduleSeconds).toEqual([300, 900, 1800, 3600]);
  expect(config.record.maxWaitSeconds).toBe(30 * 24 * 3600);
  expect(config.mapping).toEqual(DEFAULT_MAPPING);
});

it('names the control task queue after the task queue unless it is set, and never the same', () => {
  expect(loadConfig({ TEMPORAL_TASK_QUEUE: 'night' }).temporal).toMatchObject({
    taskQueue: 'night',
    controlTaskQueue: 'night-control',
  });
  expect(loadConfig({ TEMPORAL_CONTROL_TASK_QUEUE: 'ops' }).temporal.controlTaskQueue).toBe('ops');
  expect(problem({ TEMPORAL_TASK_QUEUE: 'q', TEMPORAL_CONTROL_TASK_QUEUE: 'q' })).toMatch(
    /TEMPORAL_CONTROL_TASK_QUEUE: must differ from TEMPORAL_TASK_QUEUE/,
  );
});

it.each([
  ['VAULT_BASE_URL', 'not a url', /VAULT_BASE_URL: Invalid url \(got "not a url"\)/],
  ['VAULT_API_VERSION', '23', /VAULT_API_VERSION: like v23.2/],
  ['VAULT_DIALECT', 'gateway', /VAULT_DIALECT: Invalid enum value. Expected 'documented' \| 'customer'/],
  ['VAULT_CLIENT_ID', 'bad id!', /VAULT_CLIENT_ID: letters, digits/],
  ['VAULT_OBJECT', 'CAPA; DROP', /VAULT_OBJECT: a Vault object name/],
  ['CAPA_TICK_SECONDS', '300,700', /CAPA_TICK_SECONDS: each interval must divide the next/],
  ['CAPA_TICK_SECONDS', 'soon', /CAPA_TICK_SECONDS: a comma-separated list of whole seconds/],
  ['CAPA_MAX_WAIT_HOURS', '-1', /CAPA_MAX_WAIT_HOURS: Number must be greater than 0/],
  ['VAULT_TIMEOUT_MS', 'fast', /VAULT_TIMEOUT_MS: Expected number, received nan/],
  ['ALERT_CHANNEL', 'pager', /ALERT_CHANNEL: Invalid enum value/],
  ['ALERT_CHANNEL', 'webhook', /ALERT_WEBHOOK_URL: required when ALERT_CHANNEL=webhook/],
  ['VAULT_PASSWORD_FILE', '/nonexistent/password', /VAULT_PASSWORD_FILE: cannot read \/nonexistent\/password/],
  ['CAPA_MAPPING_FILE', '/nonexistent/mapping.json', /CAPA_MAPPING_FILE: cannot read JSON/],
])('names %s when it is %j', (name, value, message) => {
  expect(problem({ [name]: value })).toMatch(message);
});

it('reports every bad setting at once and never echoes a secret', () => {
  const message = problem({ VAULT_PASSWORD: '', TEMPORAL_API_KEY: '', VAULT_BASE_URL: 'x', VAULT_MAX_RETRIES: '-3' });
  expect(problem({ VAULT_BASE_URL: 'x', TEMPORAL_API_KEY: 'key-hunter2' })).not.toContain('key-hunter2');
  expect(message.split('\n')).toHaveLength(3);
  const secret = problem({ VAULT_BASE_URL: 'x', VAULT_PASSWORD: 'hunter2' });
  expect(secret).not.toContain('hunter2');
});

it('reads the password from a file', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'capa-config-'));
  fs.writeFileSync(path.join(dir, 'pw'), 's3cret\n');
  expect(loadConfig({ VAULT_PASSWORD_FILE: path.join(dir, 'pw') }).vault.password).toBe('s3cret');
});

describe('a mapping file', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'capa-mapping-'));
  const mappingFile = (columns: Record<string, unknown>) => {
    const file = path.join(dir, `map-${Object.keys(columns).join('-')}.json`);
    fs.writeFileSync(file, JSON.stringify({ idColumn: 'id', columns }));
    return file;
  };
  const problemOf = (columns: Record<string, unknown>) => problem({ CAPA_MAPPING_FILE: mappingFile(columns) });
  const text = (field: string) => ({ field, type: 'text', maxLength: 10 });

  it.each(['state__v', 'status__v', 'lifecycle__v', 'state_stage_id__v', 'modified_by__v', 'created_date__v', 'id'])(
    'refuses a column mapped to the Vault system field %s',
    (field) => {
      expect(problemOf({ col: text(field) })).toMatch(
        new RegExp(`column col maps to ${field}, a Vault system field that is never written`),
      );
    },
  );

  it('refuses two columns mapped to one field', () => {
    expect(problemOf({ prio: text('priority__c'), priority: text('priority__c') })).toMatch(
      /columns prio and priority both map to priority__c/,
    );
  });

  it('accepts an editable __v field and names a rule it does not know', () => {
    const config = loadConfig({ CAPA_MAPPING_FILE: mappingFile({ name: text('name__v') }) });
    expect(config.mapping.columns.name).toMatchObject({ field: 'name__v' });
    expect(problemOf({ p: { field: 'p__c', type: 'enum' } })).toMatch(/CAPA_MAPPING_FILE: columns.p.type/);
  });
});

it('applies the customer dialect preset and individual overrides', () => {
  const config = loadConfig({
    VAULT_DIALECT: 'customer',
    VAULT_LOCKED_STATES: 'in_review__c, in_approval__c',
    VAULT_HTTP_423_LOCKED: 'false',
  });
  expect(config.vault.dialect).toMatchObject({
    objectPath: 'objects',
    lockedErrorTypes: ['RECORD_LOCKED'],
    lockEndpoint: true,
    http423MeansLocked: false,
    lockedStates: ['in_review__c', 'in_approval__c'],
  });
});

describe("Temporal's connection settings, as the SDK and the temporal CLI read them", () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'capa-temporal-'));
  const file = (name: string, text: string) => (fs.writeFileSync(path.join(dir, name), text), path.join(dir, name));
  const [ca, cert, key] = ['ca.pem', 'client.pem', 'client.key'].map((n) => file(n, `-----${n}-----`));
  const text = (bytes?: Uint8Array) => (bytes ? Buffer.from(bytes).toString() : undefined);

  it('reads mTLS with a private CA and a server name from the SDK variables', () => {
    const { temporal } = loadConfig({
      TEMPORAL_ADDRESS: 'temporal.internal:7233',
      TEMPORAL_NAMESPACE: 'quality',
      TEMPORAL_TLS_CLIENT_CERT_PATH: cert,
      TEMPORAL_TLS_CLIENT_KEY_PATH: key,
      TEMPORAL_TLS_SERVER_CA_CERT_PATH: ca,
      TEMPORAL_TLS_SERVER_NAME: 'frontend.temporal.internal',
    });
    expect(temporal).toMatchObject({ address: 'temporal.internal:7233', namespace: 'quality' });
    const tls = temporal.options.tls as TLSConfig;
    expect(tls.serverNameOverride).toBe('frontend.temporal.internal');
    expect(text(tls.serverRootCACertificate)).toBe('-----ca.pem-----');
    expect([text(tls.clientCertPair?.crt), text(tls.clientCertPair?.key)]).toEqual([
      '-----client.pem-----',
      '-----client.key-----',
    ]);
  });

  it('reads a profile from the TOML file the CLI reads; the environment overrides it', () => {
    const toml = file(
      'temporal.toml',
      '[profile.prod]\naddress = "prod.internal:7233"\nnamespace = "quality"\n[profile.prod.tls]\n' +
        `server_ca_cert_path = "${ca}"\n`,
    );
    const prod = loadConfig({ TEMPORAL_CONFIG_FILE: toml, TEMPORAL_PROFILE: 'prod' }).temporal;
    expect(prod).toMatchObject({ address: 'prod.internal:7233', namespace: 'quality' });
    expect(text((prod.options.tls as TLSConfig).serverRootCACertificate)).toBe('-----ca.pem-----');
    const overridden = loadConfig({ TEMPORAL_CONFIG_FILE: toml, TEMPORAL_PROFILE: 'prod', TEMPORAL_NAMESPACE: 'qa' });
    expect(overridden.temporal.namespace).toBe('qa');
    expect(problem({ TEMPORAL_CONFIG_FILE: toml, TEMPORAL_PROFILE: 'staging' })).toMatch(/Profile 'staging' not found/);
  });

  it('names the setting in one line when a file is missing, and the SDK name of a renamed one', () => {
    expect(problem({ TEMPORAL_CONFIG_FILE: '/nonexistent.toml' })).toMatch(/TEMPORAL_CONFIG_FILE: no file at/);
    expect(problem({ TEMPORAL_TLS_SERVER_CA_CERT_PATH: '/nonexistent/ca.pem' })).toMatch(
      /Temporal TLS settings: cannot read \/nonexistent\/ca.pem$/,
    );
    expect(problem({ TEMPORAL_TLS_CERT_PATH: cert })).toMatch(
      /TEMPORAL_TLS_CERT_PATH: renamed TEMPORAL_TLS_CLIENT_CERT_PATH/,
    );
  });
});

it('documents every setting in docs/configuration.md, as the declarations say it', () => {
  const readme = fs.readFileSync(path.join(__dirname, '../docs/configuration.md'), 'utf8');
  const cells = (name: string) =>
    readme
      .split('\n')
      .find((l) => l.startsWith(`| \`${name}\` `))
      ?.split('|')
      .slice(1, -1)
      .map((c) => c.trim());
  for (const name of TEMPORAL_CONNECTION_SETTINGS) expect([name, cells(name)?.length]).toEqual([name, 2]);
  // Name, default and meaning, exactly as SETTINGS declares them: the docs table is their one description.
  for (const [name, s] of Object.entries(SETTINGS)) {
    const shown = s.default === undefined ? '(unset)' : `\`${s.default}\``;
    expect(cells(name)).toEqual([`\`${name}\``, shown, s.doc]);
  }
  const documented = readme.split('\n').filter((l) => /^\| `[A-Z0-9_]+` +\|/.test(l)).length;
  expect(documented).toBe(Object.keys(SETTINGS).length + TEMPORAL_CONNECTION_SETTINGS.length);
});
