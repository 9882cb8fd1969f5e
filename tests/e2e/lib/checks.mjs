// Per-page checks run on every distinct page the journey visits: axe-core's WCAG 2.x A/AA
// rules, and no horizontal scrolling at phone width. Findings are collected rather than
// thrown, so that the journey carries on and the dedicated tests at the end report every
// page's problems at once.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';

const require = createRequire(import.meta.url);
const AXE_SOURCE = readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');

export const WCAG_TAGS = ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa'];
export const DESKTOP = { width: 1280, height: 800 };
export const PHONE = { width: 375, height: 667 };

/**
 * What the checks found. Kept in a file as well as in memory: after a failed test
 * Playwright starts a new worker, and the tests that report the findings must still see
 * what the journey recorded before that.
 */
export const findings = { checked: [], axe: [], overflow: [], offsite: [], consoleErrors: [], failedAssets: [] };

const findingsFile = () => path.join(process.env.HAVEN_E2E_RUN_DIR, 'findings.json');

export function saveFindings() {
  writeFileSync(findingsFile(), JSON.stringify(findings, null, 2));
}

/** The findings recorded so far in this run, by whichever worker recorded them. */
export function loadFindings() {
  if (!existsSync(findingsFile())) return null;
  return JSON.parse(readFileSync(findingsFile(), 'utf8'));
}

/**
 * Runs axe on the page as it is. The page's Content-Security-Policy forbids inline script,
 * so axe goes in through the DevTools protocol (page.evaluate), which the CSP does not
 * govern, rather than through a <script> tag.
 */
export async function axe(page) {
  await page.evaluate(AXE_SOURCE);
  const result = await page.evaluate(
    (tags) => window.axe.run(document, { runOnly: { type: 'tag', values: tags }, resultTypes: ['violations'] }),
    WCAG_TAGS,
  );
  return result.violations.map((v) => ({
    id: v.id,
    impact: v.impact,
    help: v.help,
    helpUrl: v.helpUrl,
    nodes: v.nodes.map((n) => ({ target: n.target.join(' '), html: n.html, summary: n.failureSummary })),
  }));
}

/**
 * Whether the document scrolls sideways. Content inside `.table-wrap` (which scrolls on
 * its own) may be wider; anything else that sticks out past the right edge is listed to
 * say why.
 */
export async function overflow(page) {
  return page.evaluate(async () => {
    await new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r)));
    const width = window.innerWidth;
    const wide = [];
    for (const el of document.body.querySelectorAll('*')) {
      // A table may scroll inside its .table-wrap; an absolutely positioned element in it
      // escapes that box (unless the wrapper is positioned) and can widen the page.
      if (el.closest('.table-wrap') && !['absolute', 'fixed'].includes(getComputedStyle(el).position)) continue;
      const box = el.getBoundingClientRect();
      if (box.width > 0 && box.right > width + 0.5) {
        const id = el.id ? `#${el.id}` : '';
        const cls = typeof el.className === 'string' && el.className ? `.${el.className.trim().split(/\s+/).join('.')}` : '';
        wide.push(`${el.tagName.toLowerCase()}${id}${cls} (right edge ${Math.round(box.right)}px)`);
      }
    }
    return { scrollWidth: document.documentElement.scrollWidth, innerWidth: width, wide: wide.slice(0, 10) };
  });
}

/**
 * Runs every per-page check on the page as it is now, recording what it finds: axe at
 * desktop width, then at phone width (where tables scroll and the header wraps) axe again
 * and the sideways-scrolling check.
 */
export async function checkPage(page, name) {
  findings.checked.push(name);
  const url = page.url();
  // HAVEN_E2E_SCREENSHOTS=1 keeps a picture of every checked page, at both widths, for a
  // person to look over (target/e2e/pages/).
  const shots = process.env.HAVEN_E2E_SCREENSHOTS === '1';
  const shot = async (width) => {
    const file = `${String(findings.checked.length).padStart(2, '0')}-${name.replace(/[^a-z0-9]+/gi, '-')}-${width}.png`;
    await page.screenshot({ path: path.join(process.env.HAVEN_E2E_OUT, 'pages', file), fullPage: true });
  };
  if (shots) await shot('desktop');
  const desktop = await axe(page);
  if (desktop.length) findings.axe.push({ page: name, url, viewport: 'desktop', violations: desktop });
  const before = page.viewportSize();
  await page.setViewportSize(PHONE);
  try {
    const layout = await overflow(page);
    if (shots) await shot('phone');
    if (layout.scrollWidth > layout.innerWidth) findings.overflow.push({ page: name, url, ...layout });
    const seen = new Set(desktop.map((v) => v.id));
    const phone = (await axe(page)).filter((v) => !seen.has(v.id));
    if (phone.length) findings.axe.push({ page: name, url, viewport: 'phone', violations: phone });
  } finally {
    if (before) await page.setViewportSize(before);
  }
  saveFindings();
}

/** A readable report of axe violations: rule, impact, and each offending node. */
export function formatAxe(list) {
  const lines = [];
  for (const { page, url, viewport, violations } of list) {
    lines.push(`${page} at ${viewport} width (${url}):`);
    for (const v of violations) {
      lines.push(`  ${v.id} [${v.impact}] ${v.help} (${v.helpUrl})`);
      for (const n of v.nodes) {
        lines.push(`    ${n.target}: ${n.html}`);
        if (n.summary) lines.push(`      ${n.summary.replace(/\n/g, '\n      ')}`);
      }
    }
  }
  return lines.join('\n');
}

export function formatOverflow(list) {
  return list
    .map((o) => `${o.page} (${o.url}): scrollWidth ${o.scrollWidth} > ${o.innerWidth}; wide: ${o.wide.join(', ') || '(none found)'}`)
    .join('\n');
}
