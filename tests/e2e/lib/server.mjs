// Playwright's global setup: starts `haven serve` on a fresh SQLite database and a free
// loopback port, reads the one-time setup link from its standard output, and hands the
// address to the tests through the environment. The returned function stops it again.
import { spawn } from 'node:child_process';
import { createWriteStream, existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
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

function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

export default async function globalSetup() {
  assertPrivateNetwork();
  const bin = process.env.HAVEN_BIN || path.join(repo, 'target', 'debug', 'haven');
  if (!existsSync(bin)) throw new Error(`${bin} does not exist; build it first (cargo build -p haven)`);
  mkdirSync(outDir, { recursive: true });
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'haven-e2e-'));
  const databaseUrl = `sqlite://${dataDir}/haven.db?mode=rwc`;
  const port = await freePort();
  const log = createWriteStream(path.join(outDir, 'server.log'));
  // Live media on a free port of loopback (UDP and ICE-TCP).
  const args = ['serve', '--listen', `127.0.0.1:${port}`, '--database-url', databaseUrl];
  args.push('--media-port', '0', '--media-public-ip', '127.0.0.1');
  const server = spawn(bin, args, {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, HAVEN_LOG: process.env.HAVEN_LOG || 'info,sqlx=warn', NO_COLOR: '1' },
  });
  server.stderr.pipe(log);

  const cleanUp = () => {
    if (process.env.HAVEN_E2E_KEEP !== '1') rmSync(dataDir, { recursive: true, force: true });
  };
  const linkPromise = new Promise((resolve, reject) => {
    let seen = '';
    const timer = setTimeout(() => done(new Error(`no setup link within 30 s; stdout so far:\n${seen}`)), 30_000);
    const done = (err, value) => {
      clearTimeout(timer);
      server.stdout.removeAllListeners('data');
      server.removeAllListeners('exit');
      if (err) reject(err);
      else resolve(value);
    };
    server.stdout.on('data', (chunk) => {
      seen += chunk;
      log.write(chunk);
      const m = seen.match(/(https?:\/\/\S+\/setup\/\S+)/);
      if (m) done(null, m[1]);
    });
    server.once('exit', (code, signal) =>
      done(new Error(`haven serve exited (${code ?? signal}) before printing a setup link; see ${outDir}/server.log`)),
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
  server.stdout.pipe(log);

  Object.assign(process.env, {
    HAVEN_E2E_BASE: base,
    HAVEN_E2E_SETUP_LINK: link,
    HAVEN_E2E_DATABASE_URL: databaseUrl,
    HAVEN_E2E_BIN: bin,
    HAVEN_E2E_OUT: outDir,
    // This run's own scratch space (lib/checks.mjs keeps its findings here).
    HAVEN_E2E_RUN_DIR: dataDir,
  });

  return async () => {
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
}
