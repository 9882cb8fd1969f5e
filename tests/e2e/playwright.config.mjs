// Playwright configuration for Haven's browser tests. Debian's Chromium (apt package
// `chromium`) is used, never a downloaded browser; one browser at a time, since the
// machines have two cores. Run through tests/e2e/run.sh or scripts/test, which put
// everything inside a private network namespace.
import path from 'node:path';
import { defineConfig } from '@playwright/test';
import { outDir } from './lib/server.mjs';

export default defineConfig({
  testDir: '.',
  testMatch: '*.spec.mjs',
  globalSetup: './lib/server.mjs',
  outputDir: path.join(outDir, 'test-results'),
  workers: 1,
  fullyParallel: false,
  retries: 0,
  forbidOnly: true,
  timeout: 60_000,
  // About 150 s on an idle 2-core machine (the consultation journeys take a minute of it);
  // room for one that is busy with a build too.
  globalTimeout: 600_000,
  expect: { timeout: 5_000 },
  // HAVEN_E2E_REPORT: where scripts/lib/e2e.sh wants the JSON report it counts.
  reporter: [['list'], ['json', { outputFile: process.env.HAVEN_E2E_REPORT || path.join(outDir, 'results.json') }]],
  use: {
    browserName: 'chromium',
    headless: true,
    viewport: { width: 1280, height: 800 },
    locale: 'en-GB',
    timezoneId: 'Europe/London',
    actionTimeout: 10_000,
    navigationTimeout: 15_000,
    screenshot: 'only-on-failure',
    trace: 'off',
    launchOptions: {
      executablePath: process.env.HAVEN_E2E_CHROMIUM || '/usr/bin/chromium',
      args: [
        '--no-sandbox',
        '--disable-gpu',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
        '--no-first-run',
        // WebRTC calls on loopback (live-call.spec.mjs): a fake camera and microphone,
        // no permission prompt, loopback candidates, and sound that may start by itself.
        '--use-fake-device-for-media-stream',
        '--use-fake-ui-for-media-stream',
        '--allow-loopback-in-peer-connection',
        '--autoplay-policy=no-user-gesture-required',
      ],
    },
  },
});
