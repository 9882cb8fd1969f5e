// Playwright's test with the base URL of the server that lib/server.mjs started (known only
// after global setup, so it cannot be in the configuration).
import { test as base } from '@playwright/test';

export { expect } from '@playwright/test';

export const test = base.extend({
  baseURL: async ({}, use) => {
    await use(process.env.HAVEN_E2E_BASE);
  },
});
