// Servers under test as child processes, for `node --test` suites (the twin of servers.py).
// A server passes its run only if it prints `... listening on ws://HOST:PORT` in time, exits 0
// within a few seconds of SIGTERM, and prints no sanitizer report.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const LISTENING = /listening on ws:\/\/([0-9.]+):([0-9]+)/;
const SANITIZER_MARKS = ['ERROR: AddressSanitizer', 'LeakSanitizer', 'runtime error:'];
const START_TIMEOUT_MS = Number(process.env.DUPLEX_START_TIMEOUT ?? 20) * 1000;
const STOP_TIMEOUT_MS = Number(process.env.DUPLEX_STOP_TIMEOUT ?? 10) * 1000;

// Children that are still running when this process exits (a failed assertion, a timeout) are
// killed, so no test leaves a server behind.
const running = new Set();
process.on('exit', () => {
  for (const child of running) child.kill('SIGKILL');
});

function commandFromEnv(variable, target) {
  const value = process.env[variable];
  if (value) return value.split(' ').filter(Boolean);
  const fallback = path.join(REPO, 'build', 'release', 'apps', target);
  if (existsSync(fallback)) return [fallback];
  throw new Error(`$${variable} is not set and ${fallback} does not exist`);
}

export class ServerProcess {
  constructor(argv, name = path.basename(argv[0])) {
    this.name = name;
    this.stdout = '';
    this.stderr = '';
    this.child = spawn(argv[0], argv.slice(1), { stdio: ['ignore', 'pipe', 'pipe'] });
    running.add(this.child);
    this.exited = new Promise((resolve) => {
      this.child.on('exit', (code, signal) => {
        running.delete(this.child);
        resolve({ code, signal });
      });
    });
    this.child.stdout.on('data', (d) => (this.stdout += d));
    this.child.stderr.on('data', (d) => (this.stderr += d));
  }

  // Resolves once the listening line is out; rejects if the process dies or stays silent.
  async ready() {
    const deadline = Date.now() + START_TIMEOUT_MS;
    for (;;) {
      const m = LISTENING.exec(this.stdout);
      if (m) {
        this.host = m[1];
        this.port = Number(m[2]);
        this.url = `ws://${this.host}:${this.port}`;
        return this;
      }
      if (this.child.exitCode !== null || this.child.signalCode !== null) {
        throw new Error(`${this.name} exited before listening\nstderr: ${this.stderr}`);
      }
      if (Date.now() > deadline) {
        this.child.kill('SIGKILL');
        throw new Error(`${this.name} printed no listening line\nstderr: ${this.stderr}`);
      }
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  sigterm() {
    this.termSent = true;
    this.child.kill('SIGTERM');
  }

  // SIGTERM (once), then the verdict: exit 0 in time, no sanitizer report.
  async stopAndCheck() {
    if (!this.termSent && this.child.exitCode === null && this.child.signalCode === null) {
      this.sigterm();
    }
    let timer;
    const timeout = new Promise((resolve) => {
      timer = setTimeout(() => resolve(null), STOP_TIMEOUT_MS);
    });
    const result = await Promise.race([this.exited, timeout]);
    clearTimeout(timer);
    if (result === null) {
      this.child.kill('SIGKILL');
      throw new Error(`${this.name} still running ${STOP_TIMEOUT_MS} ms after SIGTERM`);
    }
    for (const mark of SANITIZER_MARKS) {
      if (this.stderr.includes(mark)) {
        throw new Error(`${this.name}: sanitizer report:\n${this.stderr}`);
      }
    }
    if (result.code !== 0) {
      throw new Error(`${this.name} ended with ${JSON.stringify(result)} after SIGTERM\n` +
        `stderr: ${this.stderr}`);
    }
  }
}

export function startDuplexEcho(...flags) {
  const argv = [...commandFromEnv('DUPLEX_ECHO', 'duplex-echo'), '--host', '127.0.0.1',
    '--port', '0', ...flags];
  return new ServerProcess(argv, 'duplex-echo').ready();
}

export function startNode(script, ...args) {
  return new ServerProcess([process.execPath, script, ...args]).ready();
}
