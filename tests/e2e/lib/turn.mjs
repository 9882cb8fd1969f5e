// A coturn TURN relay for one test file, on a free loopback port inside the tests' private
// network namespace: shared-secret ("REST") authentication as Haven hands out, no TLS, no
// configuration file, no admin CLI, run as the current user. coturn refuses to relay to
// loopback peers unless told otherwise, and everything here is loopback.
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import dgram from 'node:dgram';
import { createWriteStream, mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { freePort, outDir } from './server.mjs';

/** Whether UDP `port` on loopback is free too (coturn listens on UDP and TCP). */
function udpFree(port) {
  return new Promise((resolve) => {
    const s = dgram.createSocket('udp4');
    s.once('error', () => resolve(false));
    s.bind(port, '127.0.0.1', () => s.close(() => resolve(true)));
  });
}

/** Resolves once something accepts TCP connections on 127.0.0.1:`port`. */
async function listening(port, child, deadline) {
  for (;;) {
    if (child.exitCode !== null || child.signalCode !== null) throw new Error(`turnserver exited (${child.exitCode ?? child.signalCode})`);
    const ok = await new Promise((resolve) => {
      const c = net.connect(port, '127.0.0.1');
      c.once('connect', () => {
        c.destroy();
        resolve(true);
      });
      c.once('error', () => resolve(false));
    });
    if (ok) return;
    if (Date.now() > deadline) throw new Error(`turnserver is not listening on ${port} after 10 s`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/**
 * Starts turnserver; returns its `url` for Haven's --turn-url, the `secret` for
 * --turn-secret, the log file, and `stop()`.
 */
export async function startTurn({ name = 'turnserver' } = {}) {
  let port;
  do port = await freePort();
  while (!(await udpFree(port)));
  const secret = randomBytes(18).toString('base64url');
  const dir = mkdtempSync(path.join(os.tmpdir(), 'haven-e2e-turn-'));
  const logFile = path.join(outDir, `${name}.log`);
  const log = createWriteStream(logFile);
  const args = [
    '-n', // no configuration file: everything is on this command line
    '--listening-ip', '127.0.0.1',
    '--relay-ip', '127.0.0.1',
    '--listening-port', String(port),
    '--use-auth-secret',
    `--static-auth-secret=${secret}`,
    '--realm', 'haven.test',
    '--no-tls',
    '--no-dtls',
    '--no-tcp-relay',
    // The media server is on 127.0.0.1, which coturn refuses as a peer by default.
    '--allow-loopback-peers',
    '--no-cli',
    '--no-software-attribute',
    // Its own user database and pid file, not the system's (/var/lib/turn, /var/run).
    '--userdb', path.join(dir, 'turndb'),
    '--pidfile', path.join(dir, 'turnserver.pid'),
    '--log-file', 'stdout',
    '--simple-log',
    '--verbose',
  ];
  const child = spawn(process.env.HAVEN_E2E_TURNSERVER || 'turnserver', args, { stdio: ['ignore', 'pipe', 'pipe'] });
  child.stdout.pipe(log);
  child.stderr.pipe(log);
  const kill = () => child.kill('SIGKILL');
  process.once('exit', kill);
  const spawned = new Promise((resolve, reject) => {
    child.once('spawn', resolve);
    child.once('error', (e) => reject(new Error(`cannot start turnserver (apt package coturn): ${e.message}`)));
  });
  try {
    await spawned;
    await listening(port, child, Date.now() + 10_000);
  } catch (e) {
    kill();
    rmSync(dir, { recursive: true, force: true });
    throw new Error(`${e.message}; see ${logFile}`);
  }
  return {
    port,
    secret,
    url: `turn:127.0.0.1:${port}?transport=udp`,
    logFile,
    stop: async () => {
      process.removeListener('exit', kill);
      if (child.exitCode === null && child.signalCode === null) {
        const exited = new Promise((r) => child.once('exit', r));
        child.kill('SIGTERM');
        const timer = setTimeout(kill, 3_000);
        await exited;
        clearTimeout(timer);
      }
      log.end();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
