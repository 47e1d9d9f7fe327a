/**
 * The embedded defaults that let the demo, the tests and a laptop run with no setting at all: the Vault
 * simulator's documented login, and the embedded PostgreSQL server the demo starts. The configuration takes them
 * as its defaults; the simulator and the embedded server are built to match.
 */
export const DEFAULT_USERNAME = 'sync.user@example.com';
export const DEFAULT_PASSWORD = 'simulator';

/** The embedded server's superuser: it listens on 127.0.0.1 only. */
export const EMBEDDED_SUPERUSER = { user: 'postgres', password: 'postgres' };
/**
 * Where the demo's embedded server listens, and capa-sync's database on it. The superuser owns the schema (the demo
 * migrates as it); workers and the CLI log in as the runtime role, which owns nothing: CAPA_DATABASE_URL's default.
 */
export const EMBEDDED_PORT = 55432;
const embeddedUrl = (user: string, password: string) =>
  `postgres://${user}:${password}@127.0.0.1:${EMBEDDED_PORT}/capa_sync`;
export const EMBEDDED_OWNER_URL = embeddedUrl(EMBEDDED_SUPERUSER.user, EMBEDDED_SUPERUSER.password);
export const EMBEDDED_DATABASE_URL = embeddedUrl('capa_sync', 'capa_sync');
