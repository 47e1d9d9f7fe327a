// audit/: the audit trail's signing key: signing a chain head, checking one. Imports the layers below it.

import crypto, { type KeyObject } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { AuditAnchor } from '../contracts/audit-anchor';

const signedText = (a: Pick<AuditAnchor, 'seq' | 'hash' | 'signedAt'>) =>
  `capa-sync audit head\n${a.seq}\n${a.hash}\n${a.signedAt}`;

export const keyIdOf = (publicKey: KeyObject) =>
  crypto
    .createHash('sha256')
    .update(publicKey.export({ type: 'spki', format: 'der' }))
    .digest('hex')
    .slice(0, 16);

/** Signs chain heads with the private key the workers hold. */
export class AuditSigner {
  readonly publicKey: KeyObject;
  readonly keyId: string;

  constructor(private readonly privateKey: KeyObject) {
    this.publicKey = crypto.createPublicKey(privateKey);
    this.keyId = keyIdOf(this.publicKey);
  }

  sign(head: { seq: number; hash: string }, at = new Date()): AuditAnchor {
    const unsigned = { seq: head.seq, hash: head.hash, signedAt: at.toISOString() };
    const signature = crypto.sign(null, Buffer.from(signedText(unsigned)), this.privateKey).toString('base64');
    return { ...unsigned, keyId: this.keyId, signature };
  }
}

/** Why an anchor cannot be trusted with these public keys, if it cannot. */
export function anchorProblem(anchor: AuditAnchor, publicKeys: KeyObject[]): string | undefined {
  const key = publicKeys.find((k) => keyIdOf(k) === anchor.keyId);
  if (!key) return `signed with key ${anchor.keyId}, which is not among the public keys given`;
  const valid = crypto.verify(
    null,
    Buffer.from(signedText(anchor)),
    key,
    Buffer.from(String(anchor.signature), 'base64'),
  );
  return valid ? undefined : 'its signature does not verify: it was forged or altered';
}

/** The key files of the embedded default, under CAPA_DATA_DIR. */
export const defaultKeyFiles = (dataDir: string) => ({
  privateKey: path.join(dataDir, 'audit-signing-key.pem'),
  publicKey: path.join(dataDir, 'audit-signing-key.pub.pem'),
});

/**
 * Writes a new Ed25519 key pair (the private key readable by its owner only); false when the private key exists
 * already (another process on this folder made it first). Each file appears whole, at once: a process starting
 * beside this one reads either no key or this one, never a file still being written.
 */
export function writeKeyPair(files: { privateKey: string; publicKey: string }): boolean {
  const { privateKey, publicKey } = crypto.generateKeyPairSync('ed25519');
  fs.mkdirSync(path.dirname(files.privateKey), { recursive: true });
  const made = writeWhole(files.privateKey, privateKey.export({ type: 'pkcs8', format: 'pem' }), 0o600, 'new');
  if (made) writeWhole(files.publicKey, publicKey.export({ type: 'spki', format: 'pem' }), 0o644, 'replace');
  return made;
}

/**
 * Writes a file under a name of its own, on disk before it is put in place: `new` where no file is there yet (false
 * where one is), `replace` whatever is there.
 */
function writeWhole(file: string, text: string | Buffer, mode: number, how: 'new' | 'replace'): boolean {
  const partial = `${file}.${process.pid}.${crypto.randomUUID()}.partial`;
  try {
    const fd = fs.openSync(partial, 'wx', mode);
    try {
      fs.writeFileSync(fd, text);
      fs.fsyncSync(fd);
    } finally {
      fs.closeSync(fd);
    }
    if (how === 'replace') fs.renameSync(partial, file);
    else fs.linkSync(partial, file);
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw err;
  } finally {
    fs.rmSync(partial, { force: true });
  }
}

export const readPrivateKey = (file: string) => crypto.createPrivateKey(fs.readFileSync(file));
/** A public key file, or the public half of a private key file. */
export const readPublicKey = (file: string) => crypto.createPublicKey(fs.readFileSync(file));
