import { DefaultLogger, LogLevel, Runtime } from '@temporalio/worker';
import type { Logger } from '../observability/logger';
import { PortInUse } from '../host/port-holder';

const LEVELS: Record<LogLevel, keyof Logger> = {
  TRACE: 'debug',
  DEBUG: 'debug',
  INFO: 'debug',
  WARN: 'warn',
  ERROR: 'error',
};

/** The signals that shut a process's workers down (the SDK's default adds SIGQUIT and SIGUSR2). */
export const SHUTDOWN_SIGNALS: NodeJS.Signals[] = ['SIGINT', 'SIGTERM'];

/**
 * Routes the Temporal SDK's own logs into our structured logger and, when a port is set, exposes the Temporal
 * runtime's metrics for Prometheus. Once per process, before any worker is created.
 */
export function installRuntime(logger: Logger, metricsPort?: number): void {
  try {
    Runtime.install({
      shutdownSignals: SHUTDOWN_SIGNALS,
      logger: new DefaultLogger('INFO', (entry) =>
        logger[LEVELS[entry.level]](entry.message, { sdk: true, ...entry.meta }),
      ),
      ...(metricsPort
        ? { telemetryOptions: { metrics: { prometheus: { bindAddress: `0.0.0.0:${metricsPort}` } } } }
        : {}),
    });
  } catch (err) {
    if (metricsPort && /address already in use/i.test((err as Error).message))
      throw new PortInUse(metricsPort, "the worker's metrics, METRICS_PORT");
    throw err;
  }
}
