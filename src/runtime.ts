import { DefaultLogger, LogLevel, Runtime } from '@temporalio/worker';
import type { Logger } from './logger';

/**
 * Routes the Temporal SDK's own logs into our structured logger and, when a port is set, exposes the Temporal
 * runtime's metrics for Prometheus. Once per process, before any worker is created.
 */
export function installRuntime(logger: Logger, metricsPort?: number): void {
  const levels: Record<LogLevel, keyof Logger> = {
    TRACE: 'debug',
    DEBUG: 'debug',
    INFO: 'debug',
    WARN: 'warn',
    ERROR: 'error',
  };
  Runtime.install({
    logger: new DefaultLogger('INFO', (entry) =>
      logger[levels[entry.level]](entry.message, { sdk: true, ...entry.meta }),
    ),
    ...(metricsPort
      ? { telemetryOptions: { metrics: { prometheus: { bindAddress: `0.0.0.0:${metricsPort}` } } } }
      : {}),
  });
}
