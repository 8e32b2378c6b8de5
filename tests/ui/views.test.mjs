// tests/ui/views.test.mjs — the operator console in a real browser: what the
// console shows: another operator's change without a reload, the fleet's
// numbers and the staged rollout, the audit log's filters, and a phone-sized
// page in the dark scheme. How every scenario runs is in scenario.mjs.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';

import { SDK_KEY, screenshot, signIn } from './harness.mjs';
import { ENV, noSeriousViolations, openFlag, scenario } from './scenario.mjs';

describe('console: views', () => {
  test('live: another operator\'s change appears without a reload', () => scenario('live', async (server, page) => {
    await signIn(page, server);
    await page.locator('.live[data-state="live"]').waitFor();
    const row = page.locator('tr', { has: page.getByRole('link', { name: 'kill-recommendations', exact: true }) });
    assert.match(await row.innerText(), /On/);
    const bob = await server.token('bob', { kind: 'admin' });
    await server.api('POST', `${ENV}/flags/kill-recommendations/kill`, { token: bob, body: { reason: 'bob saw errors' } });
    await row.locator('.badge', { hasText: 'Killed' }).waitFor();
    await page.locator('.toast', { hasText: 'v2: bob killed kill-recommendations — “bob saw errors”' }).waitFor();
    await openFlag(page, 'kill-recommendations');
    await server.api('POST', `${ENV}/flags/kill-recommendations/revive`, { token: bob, body: { reason: 'recovered' } });
    await page.locator('.state-live').waitFor();
    await screenshot(page, 'live');
  }));
  test('guard and telemetry: the fleet\'s numbers per variant and the staged rollout', () => scenario('guard', async (server, page) => {
    const plan = await server.api('POST', `${ENV}/flags/fix-double-charge/rollout-plan`, {
      body: { reason: 'PAY-123 staged', stages: [10, 50, 100], every_seconds: 3600, min_samples: 100 },
    });
    assert.equal(plan.status, 201, JSON.stringify(plan.data));
    const report = await server.api('POST', '/v1/telemetry', {
      token: SDK_KEY,
      body: {
        instance: 'checkout-7',
        counts: [
          { flag: 'fix-double-charge', variant: 'on', exposures: 400, successes: 396, failures: 4 },
          { flag: 'fix-double-charge', variant: 'off', exposures: 1600, successes: 1568, failures: 32 },
        ],
      },
    });
    assert.equal(report.status, 202, JSON.stringify(report.data));
    await signIn(page, server);
    await page.getByLabel('Guarded (1)').check();
    assert.equal(await page.locator('table.flags-table tbody tr').count(), 1);
    assert.match(await page.locator('table.flags-table tbody').innerText(), /fix-double-charge[\s\S]*Guarded[\s\S]*10% on/);
    await openFlag(page, 'fix-double-charge');
    const guard = page.locator('section', { has: page.getByRole('heading', { name: 'Guard and telemetry' }) });
    await guard.waitFor();
    assert.match(await guard.innerText(), /active\s+stage 1 of 3 \(10% → 50% → 100%\)/);
    const rows = await guard.locator('table.telemetry-table tbody tr').allInnerTexts();
    assert.equal(rows.length, 2);
    assert.match(rows.find((r) => r.includes('on')), /on\s+400\s+396\s+4\s+1\.00%/);
    assert.match(rows.find((r) => r.includes('off')), /off\s+1600\s+1568\s+32\s+2\.00%/);
    await noSeriousViolations(page, 'flag page with telemetry');
    await screenshot(page, 'guard');
    // A ramp by hand would stop the plan: the confirmation says so.
    await page.getByLabel('Share of users who get on (true), in percent').fill('30');
    await page.getByRole('button', { name: 'Change rollout…' }).click();
    const dialog = page.locator('dialog[open]');
    await dialog.getByText('A staged rollout of fix-double-charge is running (stage 1); changing the rollout by hand stops it.').waitFor();
    await noSeriousViolations(page, 'rollout dialog during a staged rollout');
    await dialog.getByRole('button', { name: 'Cancel' }).click();
    await dialog.waitFor({ state: 'detached' });
    assert.equal((await server.flag('fix-double-charge')).default.rollout.split[0].weight, 10, 'cancelled: nothing changed');
  }));
  test('audit log with filters', () => scenario('audit', async (server, page) => {
    const bob = await server.token('bob', { kind: 'admin' });
    await server.api('POST', `${ENV}/flags/new-wallet/revive`, { token: bob, body: { reason: 'wallet fixed' } });
    await server.api('POST', `${ENV}/flags/fix-double-charge/rollout`, { body: { reason: 'ramp', percent: 30 } });
    await signIn(page, server);
    await page.getByRole('link', { name: 'Audit log' }).click();
    await page.locator('table.audit-table').waitFor();
    await page.getByLabel('Actor').fill('bob');
    await page.getByRole('button', { name: 'Filter' }).click();
    await page.locator('.count', { hasText: '1 entry shown' }).waitFor();
    assert.match(await page.locator('table.audit-table tbody').innerText(), /bob[\s\S]*flag\.revive[\s\S]*wallet fixed[\s\S]*new-wallet/);
    await page.getByLabel('Actor').fill('');
    await page.getByLabel('Action').selectOption('flag.rollout');
    // The previous filter also showed one entry: wait for the new one.
    await page.locator('table.audit-table tbody', { hasText: 'fix-double-charge · 30%' }).waitFor();
    await page.locator('.count', { hasText: '1 entry shown' }).waitFor();
    await page.locator('#audit-env').selectOption('');
    await page.getByLabel('Action').selectOption('');
    await page.locator('.count', { hasText: 'entries shown' }).waitFor();
    assert.match(page.url(), /env=\*/);
    await noSeriousViolations(page, 'audit log');
    await screenshot(page, 'audit');
  }));
  test('phone size, dark scheme: readable, nothing wider than the screen', () => scenario('phone-dark', async (server, page) => {
    await signIn(page, server);
    const width = () => page.evaluate(() => document.documentElement.scrollWidth);
    assert.ok(await width() <= 390, `the list is ${await width()} px wide`);
    const background = await page.evaluate(() => getComputedStyle(document.body).backgroundColor);
    assert.equal(background, 'rgb(13, 17, 23)', 'dark colours');
    await noSeriousViolations(page, 'flag list, phone, dark');
    await screenshot(page, 'phone-dark-flags');
    await openFlag(page, 'checkout-theme');
    assert.ok(await width() <= 390, `the flag page is ${await width()} px wide`);
    await noSeriousViolations(page, 'flag page, phone, dark');
    await screenshot(page, 'phone-dark-flag');
    await page.getByRole('link', { name: 'History' }).click();
    await page.locator('table.history-table').waitFor();
    await noSeriousViolations(page, 'history, phone, dark');
  }, { page: { viewport: { width: 390, height: 844 }, colorScheme: 'dark' } }));
});
