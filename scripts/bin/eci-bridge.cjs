#!/usr/bin/env node
// `npx eci-bridge <command>`: runs scripts/cli.ts through tsx, from wherever the package is installed.
'use strict';
const { spawnSync } = require('node:child_process');
const path = require('node:path');

const root = path.resolve(__dirname, '..', '..');
const tsxLoader = require.resolve('tsx', { paths: [root] });
const res = spawnSync(
  process.execPath,
  ['--import', require('node:url').pathToFileURL(tsxLoader).href, path.join(root, 'scripts', 'cli.ts'), ...process.argv.slice(2)],
  { stdio: 'inherit' },
);
if (res.error) {
  process.stderr.write(`eci-bridge: ${res.error.message}\n`);
  process.exit(1);
}
process.exit(res.status === null ? 1 : res.status);
