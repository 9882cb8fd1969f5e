// The sign-in page at phone width, with the keyboard only: the skip link comes first, every
// focused element shows a visible focus indicator, and Tab reaches the form's submit button.
import path from 'node:path';
import { expect, test } from './lib/fixtures.mjs';
import { PHONE } from './lib/checks.mjs';

test.use({ viewport: PHONE });

/** What has focus, and whether a person can see that it has. */
function describeFocus() {
  const el = document.activeElement;
  if (!el || el === document.body) return null;
  const style = getComputedStyle(el);
  const box = el.getBoundingClientRect();
  const outline = style.outlineStyle !== 'none' && parseFloat(style.outlineWidth) >= 2;
  const shadow = style.boxShadow !== 'none';
  const label = (el.getAttribute('aria-label') || el.innerText || el.getAttribute('name') || el.id || '').trim();
  return {
    tag: el.tagName.toLowerCase(),
    id: el.id,
    className: typeof el.className === 'string' ? el.className : '',
    type: el.getAttribute('type') || '',
    label: label.slice(0, 40),
    indicator: outline || shadow,
    onScreen: box.width > 0 && box.height > 0 && box.left >= 0 && box.right <= window.innerWidth + 0.5,
    isSubmit: el.matches('form[action="/signin"] button[type="submit"]'),
  };
}

test('on the sign-in page at phone width, Tab starts at the skip link and reaches the submit button with visible focus', async ({ page }) => {
  await page.goto('/signin');
  await expect(page.getByRole('heading', { level: 1 })).toHaveText('Sign in');
  await page.screenshot({ path: path.join(process.env.HAVEN_E2E_OUT, 'signin-phone.png'), fullPage: true });

  const seen = [];
  for (let presses = 1; presses <= 10; presses++) {
    await page.keyboard.press('Tab');
    const f = await page.evaluate(describeFocus);
    expect(f, `Tab ${presses} focused nothing`).not.toBeNull();
    seen.push(`${f.tag}${f.id ? `#${f.id}` : ''} "${f.label}"`);
    if (presses === 1) {
      expect(f.className, 'the first focusable element is the skip link').toContain('skip-link');
    }
    expect(f.indicator, `no visible focus indicator on ${seen.at(-1)}`).toBe(true);
    expect(f.onScreen, `${seen.at(-1)} has focus but is off screen`).toBe(true);
    if (f.isSubmit) break;
  }
  expect(seen.at(-1), `focus order: ${seen.join(' → ')}`).toMatch(/^button "Sign in"$/);
  const order = seen.join(' → ');
  expect(order.indexOf('input#email'), order).toBeGreaterThan(0);
  expect(order.indexOf('input#password'), order).toBeGreaterThan(order.indexOf('input#email'));
});

test('the skip link moves focus to the main content, and Tab then goes to the first field', async ({ page }) => {
  await page.goto('/signin');
  await page.keyboard.press('Tab');
  await expect(page.locator('.skip-link')).toBeFocused();
  await expect(page.locator('.skip-link')).toBeInViewport();
  await page.keyboard.press('Enter');
  await expect(page.locator('main#main')).toBeFocused();
  await page.keyboard.press('Tab');
  await expect(page.getByLabel('Email address')).toBeFocused();
});
