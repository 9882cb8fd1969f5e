// Playwright configuration for the browser benchmarks (bench/join.sh): the test
// configuration, but only *.bench.mjs files, which the normal run (*.spec.mjs) never sees.
import { defineConfig } from '@playwright/test';
import tests from './playwright.config.mjs';

export default defineConfig({
  ...tests,
  testMatch: '*.bench.mjs',
  // Many consultations in one go: the benchmark sets its own test timeout by its runs.
  globalTimeout: 3_600_000,
});
