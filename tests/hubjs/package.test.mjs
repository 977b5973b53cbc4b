// web/ as an npm package (web/package.json): a project that depends on it imports
// `duplex-hub-client` by name, Node loads it as an ES module without a warning (no
// MODULE_TYPELESS_PACKAGE_JSON), what it exports is what duplex.d.ts declares, a TypeScript
// program that uses it type-checks (tsc from node_modules) and one that misuses it does not. The importing
// program then talks to a real duplexd through it (the binary in $DUPLEXD; ctest sets it).
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { promisify } from 'node:util';

import { REPO, ServerProcess } from '../support/servers.mjs';

const WEB = path.join(REPO, 'web');
const manifest = JSON.parse(readFileSync(path.join(WEB, 'package.json'), 'utf8'));
const scratch = mkdtempSync(path.join(os.tmpdir(), 'duplex-npm-'));
after(() => rmSync(scratch, { recursive: true, force: true }));

// What `npm install ../web` makes: the dependency as a link under node_modules. `ws` is linked
// the same way (Node 20 has no global WebSocket).
function projectUsingThePackage() {
  const project = path.join(scratch, 'app');
  mkdirSync(path.join(project, 'node_modules'), { recursive: true });
  writeFileSync(path.join(project, 'package.json'), JSON.stringify({
    name: 'app', private: true, type: 'module',
    dependencies: { [manifest.name]: `file:${WEB}`, ws: '*' },
  }));
  symlinkSync(WEB, path.join(project, 'node_modules', manifest.name));
  symlinkSync(path.join(REPO, 'node_modules', 'ws'), path.join(project, 'node_modules', 'ws'));
  return project;
}

function run(cwd, file, source, args = []) {
  writeFileSync(path.join(cwd, file), source);
  return promisify(execFile)(process.execPath, [file, ...args], { cwd, timeout: 30000 });
}

describe('duplex.js as an npm package', () => {
  it('declares an ES module with exports and types that exist', () => {
    assert.equal(manifest.type, 'module');
    assert.equal(manifest.exports['.'].default, './duplex.js');
    assert.equal(manifest.exports['.'].types, './duplex.d.ts');
    for (const file of manifest.files) readFileSync(path.join(WEB, file));
  });

  it('imports by name without a warning and exports what duplex.d.ts declares', async () => {
    const project = projectUsingThePackage();
    const { stdout, stderr } = await run(project, 'names.js', `
      import * as duplex from '${manifest.name}';
      console.log(JSON.stringify(Object.keys(duplex).sort()));
    `);
    assert.equal(stderr, '', 'Node printed a warning');
    const exported = JSON.parse(stdout);
    assert.deepEqual(exported, ['DuplexClient', 'DuplexError']);
    const declarations = readFileSync(path.join(WEB, 'duplex.d.ts'), 'utf8');
    for (const name of exported) {
      assert.match(declarations, new RegExp(`^export (declare )?class ${name}\\b`, 'm'), name);
    }
  });

  it('a TypeScript program type-checks against duplex.d.ts, and misuse does not', async () => {
    const project = path.join(scratch, 'app');
    writeFileSync(path.join(project, 'check.ts'), `
      import { DuplexClient, DuplexError, type Publication } from '${manifest.name}';
      const hub = new DuplexClient('ws://127.0.0.1:8080/connection', {
        token: async () => 'a token', minDelayMs: 100,
      });
      const stop: () => void = hub.on('publication', (p) => { const n: number = p.offset; void n; });
      stop();
      hub.on('error', (e) => { const code: string = e.code; void code; });
      export async function run(): Promise<void> {
        const info = await hub.connect();
        const user: string = info.user;
        type Throw = { kind: string; text?: string };
        const sub = await hub.subscribe<Throw>('demo:throws',
          (p: Publication<Throw>) => { const kind: string = p.data.kind; void kind; }, { last: 10 });
        const { offset, epoch } = await hub.publish('demo:throws', { kind: 'tomato' });
        const history = await hub.history('demo:throws', { since: { offset, epoch }, limit: 5 });
        void [user, sub.offset, history.publications.length, new DuplexError('x', 'y').reason];
        // @ts-expect-error: data is JSON, not a function
        await hub.publish('demo:throws', () => 1);
        // @ts-expect-error: no such event
        hub.on('tomato', () => {});
        // @ts-expect-error: state is read-only
        hub.state = 'connected';
      }
    `);
    const tsc = path.join(REPO, 'node_modules', 'typescript', 'bin', 'tsc');
    const { stdout, stderr } = await promisify(execFile)(process.execPath, [tsc, '--noEmit',
      '--strict', '--module', 'nodenext', '--moduleResolution', 'nodenext', '--target', 'es2022',
      '--lib', 'es2022',
      'check.ts'], { cwd: project, timeout: 60000 }).catch((error) => error);
    assert.equal(stdout + stderr, '', 'tsc found errors');
  });

  it('the page\'s own modules load without a warning too', async () => {
    const { stderr } = await promisify(execFile)(process.execPath,
      ['--input-type=module', '-e', `import '${path.join(WEB, 'demo-logic.js')}';`]);
    assert.equal(stderr, '');
  });

  it('an imported client publishes and receives through duplexd', async (t) => {
    const command = process.env.DUPLEXD || path.join(REPO, 'build', 'release', 'apps', 'duplexd');
    const server = new ServerProcess([command, '--host', '127.0.0.1', '--port', '0', '--quiet',
      '--data', path.join(scratch, 'data'),
      // DUPLEXD_THREADS=N (ctest's hub.loops4 run): N loops; else duplexd's default (the cores).
      ...(process.env.DUPLEXD_THREADS ? ['--threads', process.env.DUPLEXD_THREADS] : [])],
    'duplexd');
    t.after(() => server.stopAndCheck());
    await server.ready();
    const project = path.join(scratch, 'app');
    const { stdout, stderr } = await run(project, 'talk.js', `
      import { DuplexClient } from '${manifest.name}';
      import WebSocket from 'ws';
      const hub = new DuplexClient(process.argv[2], { WebSocket });
      await hub.connect();
      const got = new Promise((resolve) => hub.subscribe('talk:npm', (pub) => resolve(pub.data)));
      await hub.publish('talk:npm', { text: 'from npm' });
      console.log(JSON.stringify(await got));
      hub.close();
    `, [`ws://127.0.0.1:${server.port}/connection`]);
    assert.equal(stderr, '');
    assert.deepEqual(JSON.parse(stdout), { text: 'from npm' });
  });
});
