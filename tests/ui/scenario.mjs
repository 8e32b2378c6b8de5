// tests/ui/scenario.mjs — how every browser scenario runs (the *.test.mjs
// files beside it): Debian's Chromium, headless, driven by playwright-core,
// one browser per test file; each scenario gets its own hotfixd on
// 127.0.0.1 and a fresh, signed-out page, does its job through the page only
// (clicks and keys), checks the outcome where it counts (the admin API,
// hotfixctl, a streaming SDK service), runs axe-core on every page it shows,
// and saves a screenshot under build/logs/ui/. Any page error, console error,
// alert() or CSP violation fails the scenario.

import assert from 'node:assert/strict';
import { after, before } from 'node:test';

import { Server, axe, axeResults, launchBrowser, openPage, screenshot } from './harness.mjs';

export const ENV = '/v1/admin/envs/production';

let current = null;

before(async () => { current = await launchBrowser(); });
after(async () => {
  await current.close();
  const pages = axeResults.length;
  const bad = axeResults.flatMap((r) => r.violations.filter((v) => ['serious', 'critical'].includes(v.impact)));
  const minor = axeResults.flatMap((r) => r.violations.filter((v) => !['serious', 'critical'].includes(v.impact)));
  console.log(`axe-core: ${pages} page states checked, ${bad.length} serious or critical violations, ` +
    `${minor.length} minor or moderate (${[...new Set(minor.map((v) => v.id))].join(', ') || 'none'})`);
});

// The test file's browser, for scenarios that open a second page.
export function browser() {
  return current;
}

// Runs `body(server, page)` with a fresh hotfixd and a signed-out page;
// stops both, and fails on anything the page reported.
export async function scenario(name, body, { args = [], page: pageOptions } = {}) {
  const server = await Server.start(args);
  const page = await openPage(current, pageOptions);
  try {
    await body(server, page);
    assert.deepEqual(page.problems, [], 'the page reported problems');
  } catch (error) {
    await screenshot(page, `${name}-FAILED`).catch(() => {});
    error.message += `\nhotfixd log:\n${server.log.slice(-2000)}`;
    throw error;
  } finally {
    await page.context().close();
    await server.stop();
  }
}

export async function noSeriousViolations(page, name) {
  assert.deepEqual(await axe(page, name), [], `axe-core on ${name}`);
}

export async function openFlag(page, key) {
  await page.getByRole('link', { name: key, exact: true }).click();
  await page.locator('h1', { hasText: key }).waitFor();
}

// Fills the open dialog's reason and confirms with the named button.
export async function confirmWithReason(page, reason, button) {
  const dialog = page.locator('dialog[open]');
  await dialog.getByLabel('Reason').fill(reason);
  await dialog.getByRole('button', { name: button }).click();
  await dialog.waitFor({ state: 'detached' });
}
