// The package as others get it: its types compile against a usage file, `npm pack` makes a tarball of the modules
// and their types (and nothing else) that imports, and every module the entry point imports is in the package.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { createRequire } from 'node:module';

const run = promisify(execFile);
const packageDir = fileURLToPath(new URL('..', import.meta.url));

test('sfu-client.d.ts type-checks against test/types/usage.ts (tsc --noEmit, strict)', async () => {
  const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
  const result = await run(process.execPath, [tsc, '-p', 'test/types/tsconfig.json'], { cwd: packageDir }).catch(error => error);
  assert.equal(result.code ?? 0, 0, `tsc reported:\n${result.stdout}${result.stderr}`);
});

test('npm pack makes a tarball of the modules, their types, the README and package.json, which imports', async t => {
  const destination = await mkdtemp(join(tmpdir(), 'sfu-client-pack-'));
  t.after(() => rm(destination, { recursive: true, force: true }));
  const { stdout } = await run('npm', ['pack', '--json', '--ignore-scripts', '--pack-destination', destination], { cwd: packageDir });
  const [pack] = JSON.parse(stdout);

  assert.equal(pack.name, '@sfu/client');
  assert.deepEqual(pack.files.map(f => f.path).sort(),
    ['README.md', 'connection-quality.js', 'data-track.js', 'package.json', 'published-track.js', 'sfu-client.d.ts', 'sfu-client.js', 'simulcast.js']);
  await run('tar', ['-xzf', join(destination, pack.filename), '-C', destination]);
  const unpacked = await import(pathToFileURL(join(destination, 'package', 'sfu-client.js')).href);
  assert.equal(typeof unpacked.SfuClient, 'function');
  assert.equal(typeof unpacked.PublishedTrack, 'function');
});

test('every module the entry point imports is listed in the package files', async () => {
  const { files } = JSON.parse(await readFile(new URL('../package.json', import.meta.url), 'utf8'));
  const entry = await readFile(new URL('../sfu-client.js', import.meta.url), 'utf8');
  const imported = [...entry.matchAll(/from '\.\/([^']+)'/g)].map(m => m[1]);

  assert.ok(imported.length > 0);
  for (const module of imported) assert.ok(files.includes(module), `${module} is imported but not packed`);
});
