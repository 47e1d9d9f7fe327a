// observability/: the structured logger every process writes its JSON lines with. Imports contracts only.

import pino from 'pino';

/** Structured JSON logs, one line each, with the ids that matter (record, batch) as fields. */
export interface Logger {
  debug(message: string, fields?: Record<string, unknown>): void;
  info(message: string, fields?: Record<string, unknown>): void;
  warn(message: string, fields?: Record<string, unknown>): void;
  error(message: string, fields?: Record<string, unknown>): void;
}

type Level = 'debug' | 'info' | 'warn' | 'error';

/**
 * pino, writing each line as it is logged (to stderr, or to `write`), in the fields capa-sync's logs have always had:
 * time (ISO), level (name), message, then the caller's fields, with errors shown without their stack.
 */
export function jsonLogger(
  minLevel: Level = 'info',
  write: (line: string) => void = (line) => process.stderr.write(line + '\n'),
): Logger {
  const log = pino(
    {
      level: minLevel,
      base: undefined,
      messageKey: 'message',
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: {
        level: (label) => ({ level: label }),
        log: (fields) => JSON.parse(JSON.stringify(fields, errorsAsFields)),
      },
    },
    { write: (line: string) => write(line.trimEnd()) },
  );
  return {
    debug: (message, fields) => log.debug(fields ?? {}, message),
    info: (message, fields) => log.info(fields ?? {}, message),
    warn: (message, fields) => log.warn(fields ?? {}, message),
    error: (message, fields) => log.error(fields ?? {}, message),
  };
}

export const silentLogger: Logger = { debug: () => {}, info: () => {}, warn: () => {}, error: () => {} };

/** Errors (which JSON.stringify prints as {}) as their name, message, failure type and cause: never their stack. */
function errorsAsFields(_key: string, value: unknown): unknown {
  if (!(value instanceof Error)) return value;
  const { type, cause } = value as Error & { type?: string; cause?: unknown };
  return { name: value.name, message: value.message, ...(type ? { type } : {}), ...(cause ? { cause } : {}) };
}
