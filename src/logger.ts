/** Structured JSON logs, one line each, with the ids that matter (record, batch) as fields. */
export interface Logger {
  debug(message: string, fields?: Record<string, unknown>): void;
  info(message: string, fields?: Record<string, unknown>): void;
  warn(message: string, fields?: Record<string, unknown>): void;
  error(message: string, fields?: Record<string, unknown>): void;
}

const LEVELS = ['debug', 'info', 'warn', 'error'] as const;
type Level = (typeof LEVELS)[number];

export function jsonLogger(
  minLevel: Level = 'info',
  write: (line: string) => void = (line) => process.stderr.write(line + '\n'),
): Logger {
  const threshold = LEVELS.indexOf(minLevel);
  const log = (level: Level) => (message: string, fields?: Record<string, unknown>) => {
    if (LEVELS.indexOf(level) < threshold) return;
    write(JSON.stringify({ time: new Date().toISOString(), level, message, ...fields }, errorsAsFields));
  };
  return { debug: log('debug'), info: log('info'), warn: log('warn'), error: log('error') };
}

export const silentLogger: Logger = { debug: () => {}, info: () => {}, warn: () => {}, error: () => {} };

/** Errors (which JSON.stringify prints as {}) as their name, message, failure type and cause: never their stack. */
function errorsAsFields(_key: string, value: unknown): unknown {
  if (!(value instanceof Error)) return value;
  const { type, cause } = value as Error & { type?: string; cause?: unknown };
  return { name: value.name, message: value.message, ...(type ? { type } : {}), ...(cause ? { cause } : {}) };
}
