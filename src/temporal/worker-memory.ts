/**
 * How a worker process is started (`npm run worker`, the image, the tests and the bench): the settings that hold a
 * worker with 5,000 waiting records under 250 MB RSS, measured with one Temporal worker a process; the control queue's
 * second one adds about 30 MB (see docs/performance.md for the figures).
 * - a 256 MB old space, the heap limit the worker is sized for;
 * - 4 MB semi-spaces: V8's default young generation is sized for throughput, and each isolate (the main thread and
 *   each Temporal worker's workflow thread) kept about 30 MB more than this worker's short-lived objects need;
 * - MALLOC_ARENA_MAX=2: glibc otherwise gives each of the Temporal core's threads an arena that keeps freed memory.
 * package.json's `worker` script and the Dockerfile spell the same settings (test/docker-compose.test.ts checks).
 */
export const WORKER_NODE_ARGS = ['--max-old-space-size=256', '--max-semi-space-size=4'];
export const WORKER_ENV = { MALLOC_ARENA_MAX: '2' };
