import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Worker } from 'node:worker_threads';
import { defaultKeyFiles } from '../src/audit/signing-key';

// Workers on one data folder start together on a first run: each may make the embedded default's key pair, and
// each must then read a whole key, the same one. (Two bench workers did read a key file still being written; threads
// here start and read as they would, though they rarely catch that moment.)

const THREADS = 6;

/**
 * Each thread waits at the barrier, then does what loadSigner does: where the private key file is not there, makes
 * the key pair; then reads it. One thread only reads, spinning until the file is there, as a second process does.
 */
const THREAD = `
const fs = require('node:fs');
const { workerData, parentPort } = require('node:worker_threads');
require('ts-node').register({ transpileOnly: true });
const { writeKeyPair, readPrivateKey } = require(workerData.module);
const { files, barrier, makes } = workerData;
Atomics.wait(new Int32Array(barrier), 0, 0);
try {
  if (!makes) while (!fs.existsSync(files.privateKey));
  else if (!fs.existsSync(files.privateKey)) writeKeyPair(files);
  parentPort.postMessage(readPrivateKey(files.privateKey).export({ type: 'pkcs8', format: 'pem' }));
} catch (err) {
  parentPort.postMessage('failed: ' + err.message);
}
`;

it('gives every one of several processes making the key pair at once the same whole key', async () => {
  const module = path.join(__dirname, '../src/audit/signing-key.ts');
  for (let round = 0; round < 5; round++) {
    const files = defaultKeyFiles(fs.mkdtempSync(path.join(os.tmpdir(), 'capa-key-race-')));
    const barrier = new SharedArrayBuffer(4);
    const threads = Array.from(
      { length: THREADS },
      (_, i) => new Worker(THREAD, { eval: true, workerData: { module, files, barrier, makes: i > 0 } }),
    );
    const keys = threads.map(
      (t) => new Promise<string>((resolve, reject) => t.once('message', resolve).once('error', reject)),
    );
    await new Promise((resolve) => setTimeout(resolve, 1_500)); // every thread loaded and waiting
    Atomics.store(new Int32Array(barrier), 0, 1);
    Atomics.notify(new Int32Array(barrier), 0);
    const read = await Promise.all(keys);
    await Promise.all(threads.map((t) => t.terminate()));
    expect(read.filter((k) => k.startsWith('failed'))).toEqual([]);
    expect(new Set(read).size).toBe(1);
    expect(fs.statSync(files.privateKey).mode & 0o777).toBe(0o600);
    // The key pair and nothing else: no file left half-made.
    expect(fs.readdirSync(path.dirname(files.privateKey)).sort()).toEqual([
      'audit-signing-key.pem',
      'audit-signing-key.pub.pem',
    ]);
  }
}, 120_000);
