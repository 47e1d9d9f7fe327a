#!/usr/bin/env node
// The capa-sync command. Runs the TypeScript sources through ts-node, or the compiled build (npm run build)
// where CAPA_SYNC_DIST=1 (the container image sets it).
const path = require('node:path');
const useDist = process.env.CAPA_SYNC_DIST === '1';
if (!useDist) require('ts-node').register({ transpileOnly: true, project: path.join(__dirname, '../tsconfig.json') });
// A reader that goes away (`capa-sync audit | head`, a `tee` stopped by Ctrl-C) ends the output, not the command: a
// demo or worker still stops what it started.
for (const stream of [process.stdout, process.stderr])
  stream.on('error', (err) => {
    if (err.code !== 'EPIPE') throw err;
  });
const { main, describeError } = require(useDist ? '../dist/src/cli' : '../src/cli');
// Exits once everything printed has been handed on: process.exit alone cuts off output a pipe has not taken yet.
const exit = (code) => process.stdout.write('', () => process.stderr.write('', () => process.exit(code)));
main(process.argv.slice(2)).then(exit, (err) => {
  const { code, message } = describeError(err);
  console.error(`capa-sync: ${message}`);
  exit(code);
});
