// Playwright's global setup: starts `haven serve` on a fresh SQLite database and a free
// loopback port, reads the one-time setup link from its standard output, and hands the
// address to the tests through the environment. The returned function stops it again.
// Tests that need a Haven with other options (a TURN relay) start their own (startHaven).
//
// Haven's standard output (not its log) carries the setup link and, with the default
// `console` invitation channel, every invitation link the outbox worker sends. Its lines
// are kept in memory (`stdoutLines`, `waitForStdout`) and in $HAVEN_E2E_OUT/`name`.stdout,
// which the tests' worker processes search (`stdoutOf`, `waitForStdoutLine`).
import { spawn } from 'node:child_process';
import { appendFileSync, createWriteStream, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const repo = path.resolve(here, '../../..');

export const outDir = process.env.HAVEN_E2E_OUT || path.join(repo, 'target', 'e2e');

/** Refuses to run where packets could leave the machine: only loopback may exist. */
function assertPrivateNetwork() {
  if (process.env.HAVEN_E2E_ALLOW_NETWORK === '1') return;
  const names = Object.keys(os.networkInterfaces()).filter((n) => n !== 'lo');
  if (names.length) {
    throw new Error(
      `the browser tests run only inside a private network namespace, but this one has ${names.join(', ')}; ` +
        'use tests/e2e/run.sh (or unshare -n), or set HAVEN_E2E_ALLOW_NETWORK=1 to override',
    );
  }
}

export function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

/**
 * Starts `haven serve` on a fresh SQLite database and a free loopback port, with live media
 * on a free port too, and waits for its one-time setup link. `args` are more options
 * (`--turn-url …`); the log goes to $HAVEN_E2E_OUT/`name`.log. Returns where it listens
 * and `stop()`, which ends it and removes its data.
 * @param {{args?: string[], name?: string}} [options]
 */
export async function startHaven({ args: extra = [], name = 'server' } = {}) {
  const bin = process.env.HAVEN_BIN || path.join(repo, 'target', 'debug', 'haven');
  if (!existsSync(bin)) throw new Error(`${bin} does not exist; build it first (cargo build -p haven)`);
  mkdirSync(outDir, { recursive: true });
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'haven-e2e-'));
  const databaseUrl = `sqlite://${dataDir}/haven.db?mode=rwc`;
  const port = await freePort();
  const logFile = path.join(outDir, `${name}.log`);
  const log = createWriteStream(logFile);
  const stdoutFile = path.join(outDir, `${name}.stdout`);
  writeFileSync(stdoutFile, '');
  /** Every complete line Haven has printed on its standard output. @type {string[]} */
  const stdoutLines = [];
  // Live media on a free port of loopback (UDP and ICE-TCP).
  const args = ['serve', '--listen', `127.0.0.1:${port}`, '--database-url', databaseUrl];
  args.push('--media-port', '0', '--media-public-ip', '127.0.0.1', ...extra);
  const server = spawn(bin, args, {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, HAVEN_LOG: process.env.HAVEN_LOG || 'info,sqlx=warn', NO_COLOR: '1' },
  });
  server.stderr.pipe(log);
  // Standard output goes to the log (as it always did), to its own file and to
  // `stdoutLines`, line by line.
  let partial = '';
  server.stdout.on('data', (chunk) => {
    if (!log.writableEnded) log.write(chunk);
    appendFileSync(stdoutFile, chunk);
    const lines = (partial + chunk).split('\n');
    partial = lines.pop();
    stdoutLines.push(...lines);
  });
  // A test file's own Haven must not outlive the worker that started it.
  const kill = () => server.kill('SIGKILL');
  process.once('exit', kill);

  const cleanUp = () => {
    if (process.env.HAVEN_E2E_KEEP !== '1') rmSync(dataDir, { recursive: true, force: true });
  };
  const linkPromise = new Promise((resolve, reject) => {
    let seen = '';
    const timer = setTimeout(() => done(new Error(`no setup link within 30 s; stdout so far:\n${seen}`)), 30_000);
    const look = (chunk) => {
      seen += chunk;
      const m = seen.match(/(https?:\/\/\S+\/setup\/\S+)/);
      if (m) done(null, m[1]);
    };
    const done = (err, value) => {
      clearTimeout(timer);
      server.stdout.removeListener('data', look);
      server.removeAllListeners('exit');
      if (err) reject(err);
      else resolve(value);
    };
    server.stdout.on('data', look);
    server.once('exit', (code, signal) =>
      done(new Error(`haven serve exited (${code ?? signal}) before printing a setup link; see ${logFile}`)),
    );
  });
  let link;
  let base;
  try {
    link = await linkPromise;
    base = new URL(link).origin;
    if (base !== `http://127.0.0.1:${port}`) {
      throw new Error(`the setup link ${link} does not point at the listen address 127.0.0.1:${port}`);
    }
  } catch (e) {
    server.kill('SIGKILL');
    cleanUp();
    throw e;
  }

  /**
   * Waits for a line of standard output matching `pattern` (from the first line on);
   * returns the match.
   * @param {RegExp} pattern
   */
  const waitForStdout = async (pattern, { timeout = 15_000 } = {}) => {
    const until = Date.now() + timeout;
    for (;;) {
      for (const line of stdoutLines) {
        const m = line.match(pattern);
        if (m) return m;
      }
      if (Date.now() > until) throw new Error(`no line of standard output matched ${pattern} within ${timeout} ms`);
      await new Promise((r) => setTimeout(r, 100));
    }
  };

  const stop = async () => {
    process.removeListener('exit', kill);
    if (server.exitCode === null && server.signalCode === null) {
      const exited = new Promise((r) => server.once('exit', r));
      server.kill('SIGTERM');
      const timer = setTimeout(() => server.kill('SIGKILL'), 5_000);
      await exited;
      clearTimeout(timer);
    }
    log.end();
    cleanUp();
  };
  return { base, link, bin, databaseUrl, dataDir, stdoutFile, stdoutLines, waitForStdout, stop };
}

/**
 * The lines the Haven of global setup (or the one whose `.stdout` file is `file`) has
 * printed on its standard output so far: for tests, which run in other processes.
 */
export function stdoutOf(file = process.env.HAVEN_E2E_STDOUT) {
  if (!file) throw new Error('HAVEN_E2E_STDOUT is not set: run through tests/e2e/run.sh');
  return readFileSync(file, 'utf8').split('\n').slice(0, -1);
}

export default async function globalSetup() {
  assertPrivateNetwork();
  const haven = await startHaven();
  Object.assign(process.env, {
    HAVEN_E2E_BASE: haven.base,
    HAVEN_E2E_SETUP_LINK: haven.link,
    HAVEN_E2E_DATABASE_URL: haven.databaseUrl,
    HAVEN_E2E_BIN: haven.bin,
    HAVEN_E2E_OUT: outDir,
    // Haven's standard output, line by line (invitation links of the console channel).
    HAVEN_E2E_STDOUT: haven.stdoutFile,
    // This run's own scratch space (lib/checks.mjs keeps its findings here).
    HAVEN_E2E_RUN_DIR: haven.dataDir,
  });
  return haven.stop;
}
