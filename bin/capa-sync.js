#!/usr/bin/env node
// The capa-sync command: the compiled CLI when built (npm run build), else the TypeScript sources via ts-node.
const fs = require('node:fs');
const path = require('node:path');
const compiled = path.join(__dirname, '../dist/src/cli.js');
if (!fs.existsSync(compiled))
  require('ts-node').register({ transpileOnly: true, project: path.join(__dirname, '../tsconfig.json') });
const { main, describeError } = require(fs.existsSync(compiled) ? compiled : '../src/cli');
main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err) => {
    const { code, message } = describeError(err);
    console.error(`capa-sync: ${message}`);
    process.exit(code);
  },
);
