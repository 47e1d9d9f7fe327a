// config/: every setting, from the environment (or a JSON file), checked at start with one line per problem, placed
// where the code that uses it looks. Imports the layers below it.

import fs from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { DIALECTS } from '../vault/dialect';
import { defaultKeyFiles } from '../audit/signing-key';
import { DEFAULT_RECORD_OPTIONS } from '../contracts/record-messages';
import { DEFAULT_MAPPING, Mapping, parseMapping } from '../sources/mapping';
import { displayDatabaseUrl } from '../store/database';
import { DEFAULT_PASSWORD, DEFAULT_USERNAME } from '../simulator/default-login';
import { EMBEDDED_DATABASE_URL } from '../store/embedded-defaults';
import YAML from 'yaml';
import type { SmtpSettings } from '../alerts/channel-spec';
import { parseRouting, Routing, singleTeam } from '../alerts/routing';
import { loadTemporalSettings, TemporalConnectionSettings } from './temporal-settings';

const list = z.string().transform((s) =>
  s
    .split(',')
    .map((x) => x.trim())
    .filter(Boolean),
);
const seconds = z
  .string()
  .transform((s) => s.split(',').map(Number))
  .refine(
    (xs) => xs.length > 0 && xs.every((x) => Number.isInteger(x) && x > 0),
    'a comma-separated list of whole seconds',
  )
  .refine(
    (xs) => xs.every((x, i) => i === 0 || x % xs[i - 1] === 0),
    'each interval must divide the next (e.g. 300,900,1800,3600)',
  );
const postgresUrl = z
  .string()
  .regex(/^postgres(ql)?:\/\//, 'must be a postgres:// URL')
  .refine((v) => URL.canParse(v), 'must be a postgres:// URL');
const int = (min: number) => z.coerce.number().int().min(min);
const bool = z.enum(['true', 'false', '1', '0']).transform((v) => v === 'true' || v === '1');

/**
 * Every setting, by environment variable (or the same key in the JSON file named by CAPA_SYNC_CONFIG).
 * docs/configuration.md's reference table follows this list (test/config.test.ts checks it).
 */
export const SETTINGS = {
  TEMPORAL_TASK_QUEUE: {
    schema: z.string().min(1),
    default: 'capa-sync',
    doc: 'Task queue of the record workflows (and their activities): every worker polls it',
  },
  TEMPORAL_CONTROL_TASK_QUEUE: {
    schema: z.string().min(1).optional(),
    default: undefined,
    doc: "Task queue of the batches (plans and reverts too) and the lock watchers (and their activities): every worker polls it too, so that record workflows queued by the thousand never delay them. Unset: TEMPORAL_TASK_QUEUE's name with `-control`",
  },
  TEMPORAL_UI_URL: {
    schema: z.string().url(),
    default: 'http://localhost:8233',
    doc: 'Web UI base URL, for links in output and alerts',
  },
  VAULT_BASE_URL: {
    schema: z.string().url(),
    default: 'http://127.0.0.1:8100',
    doc: 'Vault base URL (https://myvault.veevavault.com) or the simulator',
  },
  VAULT_API_VERSION: {
    schema: z.string().regex(/^v\d+\.\d+$/, 'like v23.2'),
    default: 'v23.2',
    doc: 'Vault REST API version',
  },
  VAULT_USERNAME: { schema: z.string().min(1), default: DEFAULT_USERNAME, doc: 'Integration user' },
  VAULT_PASSWORD: {
    schema: z.string().optional(),
    default: undefined,
    doc: 'Password (secret; prefer VAULT_PASSWORD_FILE)',
  },
  VAULT_PASSWORD_FILE: { schema: z.string().optional(), default: undefined, doc: 'File holding the password' },
  VAULT_CLIENT_ID: {
    schema: z.string().regex(/^[A-Za-z0-9._-]{1,100}$/, 'letters, digits, ".", "_" or "-", at most 100'),
    default: 'capa-sync',
    doc: 'X-VaultAPI-ClientID sent on every call',
  },
  VAULT_ID: {
    schema: z.coerce.number().int().optional(),
    default: undefined,
    doc: 'Expected vaultId: a session on any other vault is refused',
  },
  VAULT_OBJECT: {
    schema: z.string().regex(/^[a-z][a-z0-9_]*$/, 'a Vault object name'),
    default: 'capa__c',
    doc: 'Vault object holding the CAPA records',
  },
  VAULT_DIALECT: {
    schema: z.enum(['documented', 'customer']),
    default: 'documented',
    doc: 'API dialect preset: documented (vobjects) or customer (objects, RECORD_LOCKED/423, lock endpoint)',
  },
  VAULT_OBJECT_PATH: {
    schema: z.enum(['vobjects', 'objects']).optional(),
    default: undefined,
    doc: 'Overrides the preset: object path',
  },
  VAULT_LOCKED_ERROR_TYPES: {
    schema: list.optional(),
    default: undefined,
    doc: 'Overrides the preset: per-record error types meaning "locked"',
  },
  VAULT_HTTP_423_LOCKED: {
    schema: bool.optional(),
    default: undefined,
    doc: 'Overrides the preset: HTTP 423 means locked',
  },
  VAULT_LOCK_ENDPOINT: {
    schema: bool.optional(),
    default: undefined,
    doc: 'Overrides the preset: ask GET .../{id}/lock',
  },
  VAULT_LOCKED_STATES: {
    schema: list.optional(),
    default: undefined,
    doc: 'Overrides the preset: state__v values that lock a record',
  },
  VAULT_TRANSIENT_ERROR_TYPES: {
    schema: list.optional(),
    default: undefined,
    doc: 'Overrides the preset: per-record error types retried later',
  },
  VAULT_TIMEOUT_MS: { schema: int(100), default: '30000', doc: 'Timeout of one Vault call' },
  VAULT_AUTH_RETRY_MINUTES: {
    schema: z.coerce.number().positive(),
    default: '30',
    doc: 'After Vault refuses the credentials, no login is tried for this long (an alert says so)',
  },
  VAULT_MAX_RETRIES: {
    schema: int(0),
    default: '5',
    doc: 'Retries of a failed call (5xx, timeout, malformed body, 429)',
  },
  VAULT_BACKOFF_BASE_MS: { schema: int(1), default: '500', doc: 'First retry delay; doubles per retry, with jitter' },
  VAULT_BACKOFF_MAX_MS: { schema: int(1), default: '30000', doc: 'Largest retry delay' },
  VAULT_BURST_THRESHOLD: {
    schema: int(0),
    default: '200',
    doc: 'Pause when X-VaultAPI-BurstLimitRemaining falls below this',
  },
  VAULT_BURST_PAUSE_MS: { schema: int(0), default: '1000', doc: 'Pause before each call while below the threshold' },
  VAULT_GROUP_QUIET_MS: {
    schema: int(1),
    default: '1000',
    doc: "Waiting records' guarded writes that come this close together share one read and one bulk update (500 at most)",
  },
  VAULT_GROUP_HOLD_MS: {
    // Under the guarded write's 2-minute start-to-close, with room for the group's read, bulk update and audit.
    schema: int(1).max(60_000),
    default: '30000',
    doc: 'The longest a guarded write waits for others to join its group while they keep coming (a mass approval); the group reads Vault when it goes out, so the hold delays the write and never ages its read',
  },
  CAPA_TICK_SECONDS: {
    schema: seconds,
    default: '300,900,1800,3600',
    doc: "Lock polling intervals: the lock watcher reads every waiting record on the first; a record polls by itself, backing off left to right, only while the watcher's ticks stop",
  },
  CAPA_WATCH_WINDOW: {
    schema: int(1),
    default: '1000',
    doc: 'Records the lock watcher has told of an unlock whose workflows have not settled yet, at most: it tells more as they settle, so a mass approval reaches the workers as fast as they write it (two write groups of 500); unlocks a tick has no time for are told at the next',
  },
  CAPA_TICKS_PER_STEP: { schema: int(1), default: '12', doc: 'Ticks on each interval before backing off' },
  CAPA_SAFETY_CHECK_HOURS: {
    schema: z.coerce.number().positive(),
    default: '6',
    doc: 'While the lock watcher ticks, a waiting record wakes by itself this often, to see that it still does',
  },
  CAPA_MAX_WAIT_HOURS: {
    schema: z.coerce.number().positive(),
    default: '720',
    doc: 'Give up waiting (needs-decision + alert) after this long',
  },
  CAPA_HISTORY_EVENT_LIMIT: {
    schema: int(100),
    default: '1000',
    doc: 'Continue-as-new once a run has this many events',
  },
  CAPA_ACTIVITY_MAX_RETRY_SECONDS: {
    schema: int(1),
    default: '300',
    doc: 'Largest delay between retries of a record activity',
  },
  CAPA_MAPPING_FILE: {
    schema: z.string().optional(),
    default: undefined,
    doc: 'JSON field mapping (source column -> Vault field, type, allow-list)',
  },
  CAPA_PAGE_SIZE: { schema: int(1), default: '5000', doc: 'Rows per batch page (one activity call)' },
  CAPA_UPDATE_CONCURRENCY: {
    schema: int(1),
    default: '3',
    doc: "Vault requests one call sends at once (a page's bulk updates of 500 rows, its queries of 1,000 ids)",
  },
  CAPA_SOURCE_MAX_BYTES: {
    schema: int(1),
    default: '1073741824',
    doc: 'Largest source a URL may deliver (bytes); a longer download fails the batch',
  },
  CAPA_DECISION_WAIT_SECONDS: {
    schema: int(1),
    default: '60',
    doc: 'How long `force` / `cancel` wait out a passing Temporal condition (a failing workflow task, unavailable), saying so, before they fail',
  },
  CAPA_GATE_MAX_CHANGED_RECORDS: {
    schema: int(0),
    default: '100000',
    doc: 'Approval gate: a batch that would change more records than this waits for approval',
  },
  CAPA_GATE_MAX_CHANGED_PERCENT: {
    schema: z.coerce.number().min(0).max(100),
    default: '100',
    doc: "Approval gate: a batch that would change more than this % of the object's records in Vault waits (100: off)",
  },
  CAPA_GATE_MAX_FIELD_CHANGED_PERCENT: {
    schema: z.coerce.number().min(0).max(100),
    default: '100',
    doc: "Approval gate: a batch that would change a field's value on more than this % of the rows that set it waits (100: off)",
  },
  CAPA_GATE_MAX_EMPTIED: {
    schema: int(0),
    default: '100',
    doc: 'Approval gate: a batch that would empty a field on more records than this waits',
  },
  CAPA_GATE_MAX_ONE_VALUE_PERCENT: {
    schema: z.coerce.number().min(0).max(100),
    default: '95',
    doc: 'Approval gate: a batch that would set one value of a picklist field on more than this % of the rows that set it waits',
  },
  CAPA_GATE_MIN_ROWS: {
    schema: int(1),
    default: '1000',
    doc: 'Approval gate: the percentage rules count only a field set by at least this many rows',
  },
  CAPA_APPROVAL_TIMEOUT_HOURS: {
    schema: z.coerce.number().positive(),
    default: '24',
    doc: 'A batch waiting for approval that nobody approves or rejects within this is rejected (nothing written)',
  },
  CAPA_DATABASE_URL: {
    schema: postgresUrl,
    default: EMBEDDED_DATABASE_URL,
    doc: "The store (batches, row outcomes, audit trail): PostgreSQL, as the runtime role that owns nothing. The default is the demo's embedded server",
  },
  CAPA_DATABASE_PASSWORD_FILE: {
    schema: z.string().optional(),
    default: undefined,
    doc: "A file holding the database password (a Docker or Kubernetes secret): it replaces the URL's password",
  },
  CAPA_DATABASE_OWNER_URL: {
    schema: postgresUrl.optional(),
    default: undefined,
    doc: "The schema owner's login, for `capa-sync db migrate` only (never give it to the workers)",
  },
  CAPA_DATABASE_OWNER_PASSWORD_FILE: {
    schema: z.string().optional(),
    default: undefined,
    doc: "A file holding the owner's password: it replaces CAPA_DATABASE_OWNER_URL's password",
  },
  CAPA_AUDIT_SIGNING_KEY_FILE: {
    schema: z.string().optional(),
    default: undefined,
    doc: "The workers' Ed25519 private key (PEM) that signs the audit chain's head; unset: CAPA_DATA_DIR/audit-signing-key.pem, made on first use",
  },
  CAPA_AUDIT_PUBLIC_KEY_FILE: {
    schema: z.string().optional(),
    default: undefined,
    doc: '`audit verify`: the public key (PEM) that checks the signed heads; unset: the signing key, or the public key beside it',
  },
  CAPA_DATA_DIR: {
    schema: z.string().min(1),
    default: '.data',
    doc: "This machine's own files: the finish step's report files, the demo's dev server, database and simulator",
  },
  ALERT_CHANNEL: {
    schema: z.enum(['log', 'webhook']),
    default: 'log',
    doc: 'log (structured warn line) or webhook (Slack/Teams JSON POST)',
  },
  ALERT_WEBHOOK_URL: {
    schema: z.string().url().optional(),
    default: undefined,
    doc: 'Webhook URL when ALERT_CHANNEL=webhook',
  },
  CAPA_ROUTING_FILE: {
    schema: z.string().optional(),
    default: undefined,
    doc: "Routing file (YAML or JSON): each record's team by its CAPA fields, each team's channels and escalation ladder (docs/operations.md); unset: every alert on ALERT_CHANNEL",
  },
  CAPA_SMTP_HOST: { schema: z.string().optional(), default: undefined, doc: 'SMTP server for email alerts' },
  CAPA_SMTP_PORT: { schema: int(1), default: '587', doc: 'SMTP port' },
  CAPA_SMTP_TLS: {
    schema: z.enum(['starttls', 'tls', 'none']),
    default: 'starttls',
    doc: 'starttls (required), tls (from the first byte, port 465) or none (a relay on localhost only)',
  },
  CAPA_SMTP_FROM: {
    schema: z.string().regex(/@/, 'an email address').optional(),
    default: undefined,
    doc: 'Sender of email alerts',
  },
  CAPA_SMTP_USER: { schema: z.string().optional(), default: undefined, doc: 'SMTP login (unset: no login)' },
  CAPA_SMTP_PASSWORD_FILE: {
    schema: z.string().optional(),
    default: undefined,
    doc: 'File holding the SMTP password (never the password itself in the environment)',
  },
  CAPA_SMTP_CA_FILE: {
    schema: z.string().optional(),
    default: undefined,
    doc: "PEM file of CA certificates to trust for the SMTP server's TLS (a company CA)",
  },
  LOG_LEVEL: { schema: z.enum(['debug', 'info', 'warn', 'error']), default: 'info', doc: 'Log level' },
  METRICS_PORT: {
    schema: int(0).optional(),
    default: undefined,
    doc: 'Prometheus metrics port of the worker (off when unset)',
  },
} as const;

type SettingName = keyof typeof SETTINGS;
type Parsed = { [K in SettingName]: z.output<(typeof SETTINGS)[K]['schema']> };

/**
 * The typed configuration: each value is a setting as its declaration above parses it, placed where the code that
 * uses it looks for it (configFrom is the one mapping from names to places).
 */
export type AppConfig = ReturnType<typeof configFrom>;

/** The control task queue of a task queue where TEMPORAL_CONTROL_TASK_QUEUE is unset. */
export const controlQueueOf = (taskQueue: string) => `${taskQueue}-control`;

export class ConfigError extends Error {
  /** One or more problems, each "SETTING: what is wrong", under one heading. */
  constructor(problems: string | string[]) {
    super(`invalid configuration:\n  ${([] as string[]).concat(problems).join('\n  ')}`);
  }
}

/** Reads every setting from the environment (and CAPA_SYNC_CONFIG), failing with one line per bad setting. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): AppConfig {
  const file = env.CAPA_SYNC_CONFIG ? readJson(env.CAPA_SYNC_CONFIG, 'CAPA_SYNC_CONFIG') : {};
  const problems: string[] = [];
  const raw = {} as Record<SettingName, unknown>;
  for (const [name, setting] of Object.entries(SETTINGS) as [SettingName, (typeof SETTINGS)[SettingName]][]) {
    const value = env[name] ?? (file[name] === undefined ? undefined : String(file[name])) ?? setting.default;
    const parsed = setting.schema.safeParse(value === '' ? undefined : value);
    if (parsed.success) raw[name] = parsed.data;
    else
      problems.push(
        `${name}: ${parsed.error.issues[0].message}${value === undefined ? '' : ` (got ${JSON.stringify(redact(name, value))})`}`,
      );
  }
  let temporal: TemporalConnectionSettings | undefined;
  try {
    temporal = loadTemporalSettings({ ...stringValues(file), ...env });
  } catch (err) {
    problems.push((err as Error).message);
  }
  if (raw.TEMPORAL_CONTROL_TASK_QUEUE && raw.TEMPORAL_CONTROL_TASK_QUEUE === raw.TEMPORAL_TASK_QUEUE)
    problems.push(
      'TEMPORAL_CONTROL_TASK_QUEUE: must differ from TEMPORAL_TASK_QUEUE (a worker runs one Temporal worker on each)',
    );
  if (problems.length) throw new ConfigError(problems);
  const s = raw as Parsed;
  return configFrom(s, temporal!);
}

function configFrom(s: Parsed, temporal: TemporalConnectionSettings) {
  const preset = DIALECTS[s.VAULT_DIALECT];
  return {
    temporal: {
      ...temporal,
      taskQueue: s.TEMPORAL_TASK_QUEUE,
      controlTaskQueue: s.TEMPORAL_CONTROL_TASK_QUEUE ?? controlQueueOf(s.TEMPORAL_TASK_QUEUE),
      uiUrl: s.TEMPORAL_UI_URL,
    },
    vault: {
      baseUrl: s.VAULT_BASE_URL,
      apiVersion: s.VAULT_API_VERSION,
      username: s.VAULT_USERNAME,
      password: vaultPassword(s),
      clientId: s.VAULT_CLIENT_ID,
      expectedVaultId: s.VAULT_ID,
      timeoutMs: s.VAULT_TIMEOUT_MS,
      authRetryMs: Math.round(s.VAULT_AUTH_RETRY_MINUTES * 60_000),
      maxRetries: s.VAULT_MAX_RETRIES,
      backoffBaseMs: s.VAULT_BACKOFF_BASE_MS,
      backoffMaxMs: s.VAULT_BACKOFF_MAX_MS,
      burstLimitThreshold: s.VAULT_BURST_THRESHOLD,
      burstPauseMs: s.VAULT_BURST_PAUSE_MS,
      object: s.VAULT_OBJECT,
      groupWindow: { quietMs: s.VAULT_GROUP_QUIET_MS, maxHoldMs: s.VAULT_GROUP_HOLD_MS },
      dialect: {
        objectPath: s.VAULT_OBJECT_PATH ?? preset.objectPath,
        lockedErrorTypes: s.VAULT_LOCKED_ERROR_TYPES ?? preset.lockedErrorTypes,
        http423MeansLocked: s.VAULT_HTTP_423_LOCKED ?? preset.http423MeansLocked,
        lockEndpoint: s.VAULT_LOCK_ENDPOINT ?? preset.lockEndpoint,
        lockedStates: s.VAULT_LOCKED_STATES ?? preset.lockedStates,
        transientErrorTypes: s.VAULT_TRANSIENT_ERROR_TYPES ?? preset.transientErrorTypes,
      },
    },
    record: {
      ...DEFAULT_RECORD_OPTIONS,
      tickScheduleSeconds: s.CAPA_TICK_SECONDS,
      ticksPerStep: s.CAPA_TICKS_PER_STEP,
      maxWaitSeconds: Math.round(s.CAPA_MAX_WAIT_HOURS * 3600),
      safetyCheckSeconds: Math.round(s.CAPA_SAFETY_CHECK_HOURS * 3600),
      historyEventLimit: s.CAPA_HISTORY_EVENT_LIMIT,
      activityMaxIntervalSeconds: s.CAPA_ACTIVITY_MAX_RETRY_SECONDS,
    },
    watchWindow: s.CAPA_WATCH_WINDOW,
    mapping: s.CAPA_MAPPING_FILE ? mappingFrom(s.CAPA_MAPPING_FILE) : DEFAULT_MAPPING,
    batch: {
      pageSize: s.CAPA_PAGE_SIZE,
      updateConcurrency: s.CAPA_UPDATE_CONCURRENCY,
      sourceMaxBytes: s.CAPA_SOURCE_MAX_BYTES,
    },
    alerts: alertSettings(s),
    decisionWaitMs: s.CAPA_DECISION_WAIT_SECONDS * 1000,
    gate: {
      maxChangedRecords: s.CAPA_GATE_MAX_CHANGED_RECORDS,
      maxChangedPercentOfObject: s.CAPA_GATE_MAX_CHANGED_PERCENT,
      maxFieldChangedPercent: s.CAPA_GATE_MAX_FIELD_CHANGED_PERCENT,
      maxEmptied: s.CAPA_GATE_MAX_EMPTIED,
      maxOnePicklistValuePercent: s.CAPA_GATE_MAX_ONE_VALUE_PERCENT,
      minRows: s.CAPA_GATE_MIN_ROWS,
    },
    approvalTimeoutSeconds: Math.round(s.CAPA_APPROVAL_TIMEOUT_HOURS * 3600),
    databaseUrl: withPasswordFile(s.CAPA_DATABASE_URL, s.CAPA_DATABASE_PASSWORD_FILE, 'CAPA_DATABASE_PASSWORD_FILE'),
    databaseOwnerUrl:
      s.CAPA_DATABASE_OWNER_URL &&
      withPasswordFile(
        s.CAPA_DATABASE_OWNER_URL,
        s.CAPA_DATABASE_OWNER_PASSWORD_FILE,
        'CAPA_DATABASE_OWNER_PASSWORD_FILE',
      ),
    dataDir: path.resolve(s.CAPA_DATA_DIR),
    audit: auditKeys(s),
    logLevel: s.LOG_LEVEL,
    metricsPort: s.METRICS_PORT,
  };
}

/** Who is told of what, and the SMTP server email goes through: checked together, at start. */
function alertSettings(s: Parsed): { routing: Routing; smtp?: SmtpSettings } {
  if (s.ALERT_CHANNEL === 'webhook' && !s.ALERT_WEBHOOK_URL)
    throw new ConfigError('ALERT_WEBHOOK_URL: required when ALERT_CHANNEL=webhook');
  const routing = s.CAPA_ROUTING_FILE
    ? routingFrom(s.CAPA_ROUTING_FILE)
    : singleTeam(s.ALERT_CHANNEL === 'webhook' ? { kind: 'webhook', url: s.ALERT_WEBHOOK_URL! } : { kind: 'log' });
  const email = [...routing.teams.values()].some((t) =>
    [...t.channels, ...t.escalation].some((c) => c.kind === 'email'),
  );
  if (!s.CAPA_SMTP_HOST) {
    if (email) throw new ConfigError('CAPA_SMTP_HOST: required, the routing file sends email');
    return { routing };
  }
  if (!s.CAPA_SMTP_FROM) throw new ConfigError('CAPA_SMTP_FROM: required with CAPA_SMTP_HOST');
  if (s.CAPA_SMTP_TLS === 'none' && !['localhost', '127.0.0.1', '::1'].includes(s.CAPA_SMTP_HOST))
    throw new ConfigError('CAPA_SMTP_TLS: none is for a relay on this machine only (CAPA_SMTP_HOST localhost)');
  if (s.CAPA_SMTP_PASSWORD_FILE && !s.CAPA_SMTP_USER)
    throw new ConfigError('CAPA_SMTP_USER: required with CAPA_SMTP_PASSWORD_FILE');
  for (const [setting, file] of [
    ['CAPA_SMTP_PASSWORD_FILE', s.CAPA_SMTP_PASSWORD_FILE],
    ['CAPA_SMTP_CA_FILE', s.CAPA_SMTP_CA_FILE],
  ] as const)
    if (file && !fs.existsSync(file)) throw new ConfigError(`${setting}: cannot read ${file}`);
  const smtp: SmtpSettings = {
    host: s.CAPA_SMTP_HOST,
    port: s.CAPA_SMTP_PORT,
    secure: s.CAPA_SMTP_TLS === 'tls',
    insecure: s.CAPA_SMTP_TLS === 'none',
    from: s.CAPA_SMTP_FROM,
    ...(s.CAPA_SMTP_USER ? { user: s.CAPA_SMTP_USER } : {}),
    ...(s.CAPA_SMTP_PASSWORD_FILE ? { passwordFile: s.CAPA_SMTP_PASSWORD_FILE } : {}),
    ...(s.CAPA_SMTP_CA_FILE ? { caFile: s.CAPA_SMTP_CA_FILE } : {}),
  };
  return { routing, smtp };
}

function routingFrom(file: string): Routing {
  let content: unknown;
  try {
    content = YAML.parse(fs.readFileSync(file, 'utf8'));
  } catch (err) {
    throw new ConfigError(
      `CAPA_ROUTING_FILE: cannot read YAML or JSON from ${file} (${(err as Error).message.split('\n')[0]})`,
    );
  }
  try {
    return parseRouting(content);
  } catch (err) {
    throw new ConfigError(`CAPA_ROUTING_FILE: ${(err as Error).message}`);
  }
}

function vaultPassword(s: Parsed): string {
  if (s.VAULT_PASSWORD_FILE) {
    try {
      return fs.readFileSync(s.VAULT_PASSWORD_FILE, 'utf8').trim();
    } catch {
      throw new ConfigError(`VAULT_PASSWORD_FILE: cannot read ${s.VAULT_PASSWORD_FILE}`);
    }
  }
  // The simulator's documented default password, so the embedded demo needs no setting at all.
  return s.VAULT_PASSWORD ?? DEFAULT_PASSWORD;
}

/** The key files of the audit signatures: the ones given, or the embedded default's pair under CAPA_DATA_DIR. */
function auditKeys(s: Parsed) {
  const made = defaultKeyFiles(path.resolve(s.CAPA_DATA_DIR));
  const signingKeyFile = s.CAPA_AUDIT_SIGNING_KEY_FILE ?? made.privateKey;
  return {
    signingKeyFile,
    /** Only the embedded default's key is made when missing: a key that was given and is gone is an error. */
    makeMissingKey: s.CAPA_AUDIT_SIGNING_KEY_FILE ? undefined : made,
    /** Where `audit verify` looks for the public key, in order. */
    publicKeyFiles: [s.CAPA_AUDIT_PUBLIC_KEY_FILE, signingKeyFile, made.publicKey].filter((f): f is string => !!f),
  };
}

function withPasswordFile(url: string, file: string | undefined, setting: string): string {
  if (!file) return url;
  const u = new URL(url);
  try {
    u.password = encodeURIComponent(fs.readFileSync(file, 'utf8').trim());
  } catch {
    throw new ConfigError(`${setting}: cannot read ${file}`);
  }
  return u.toString();
}

function mappingFrom(file: string): Mapping {
  try {
    return parseMapping(readJson(file, 'CAPA_MAPPING_FILE'));
  } catch (err) {
    if (err instanceof ConfigError) throw err;
    throw new ConfigError(`CAPA_MAPPING_FILE: ${(err as Error).message}`);
  }
}

function readJson(file: string, setting: string): Record<string, unknown> {
  try {
    return JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (err) {
    throw new ConfigError(`${setting}: cannot read JSON from ${file} (${(err as Error).message})`);
  }
}

const stringValues = (file: Record<string, unknown>) =>
  Object.fromEntries(Object.entries(file).map(([k, v]) => [k, v === undefined ? undefined : String(v)]));

const SECRET_SETTINGS = new Set<string>(['VAULT_PASSWORD']);
const redact = (name: string, value: unknown) =>
  SECRET_SETTINGS.has(name)
    ? '***'
    : name.startsWith('CAPA_DATABASE_') && name.endsWith('_URL')
      ? displayDatabaseUrl(String(value))
      : value;
