// The embedded PostgreSQL server the demo starts, and capa-sync's database on it: the configuration's default
// CAPA_DATABASE_URL, so that the demo, the tests and a laptop run with no setting at all.

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
