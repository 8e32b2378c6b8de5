// tests/ui/access.test.mjs — the operator console in a real browser: who gets
// in and what they may do: sign in (the form and a sign-in link), a read-only
// token (no write controls; a forged write gets 403), keyboard only, and
// another site that tries to frame the console or write through it. How every
// scenario runs is in scenario.mjs.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';

import { ADMIN_TOKEN, openPage, screenshot, signIn } from './harness.mjs';
import { browser, noSeriousViolations, openFlag, scenario } from './scenario.mjs';

describe('console: access', () => {
  test('sign in: who I am, my scopes, the flags', () => scenario('sign-in', async (server, page) => {
    await page.goto(`${server.url}/ui/`);
    await page.locator('#token').waitFor();
    await noSeriousViolations(page, 'sign-in');
    await screenshot(page, 'sign-in');
    await page.locator('#token').fill('not-a-token');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByText('hotfixd does not accept that token').waitFor();
    await page.locator('#token').fill(ADMIN_TOKEN);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.locator('table.flags-table').waitFor();
    assert.equal(await page.locator('.who-name').innerText(), 'bootstrap-admin (read, write, tokens, approve)');
    assert.doesNotMatch(await page.locator('#who').innerText(), /null|undefined|object/);
    await page.locator('.live[data-state="live"]').waitFor();
    assert.equal(await page.locator('table.flags-table tbody tr').count(), 5);
    const row = page.locator('tr', { has: page.getByRole('link', { name: 'fix-double-charge', exact: true }) });
    assert.match(await row.innerText(), /Rules[\s\S]*25% on[\s\S]*v1[\s\S]*payments-oncall[\s\S]*PAY-123/);
    // Filters: tag, killed, stale; the address keeps them.
    await page.getByLabel('Tag').selectOption('payments');
    assert.equal(await page.locator('table.flags-table tbody tr').count(), 3);
    await page.getByLabel('Killed (1)').check();
    assert.equal(await page.locator('table.flags-table tbody tr').count(), 1);
    assert.match(page.url(), /tag=payments&killed=1/);
    await page.reload();
    await page.locator('table.flags-table').waitFor();
    assert.equal(await page.locator('table.flags-table tbody tr').count(), 1);
    await page.getByLabel('Killed (1)').uncheck();
    await page.getByLabel('Tag').selectOption('');
    await page.getByLabel('Stale or expired (1)').check();
    assert.match(await page.locator('table.flags-table tbody').innerText(), /checkout-theme/);
    assert.equal(await page.getByLabel('Guarded (0)').isDisabled(), true);
    await page.getByLabel('Stale or expired (1)').uncheck();
    await noSeriousViolations(page, 'flag list');
    await screenshot(page, 'flags');
    // A sign-in link (what ./scripts/dev demo prints): signed in, and the
    // token gone from the address at once.
    const linked = await openPage(browser());
    try {
      await linked.goto(`${server.url}/ui/#token=${ADMIN_TOKEN}&env=production`);
      await linked.locator('table.flags-table').waitFor();
      assert.doesNotMatch(linked.url(), /token/);
      assert.equal(await linked.locator('.who-name').innerText(), 'bootstrap-admin (read, write, tokens, approve)');
      assert.deepEqual(linked.problems, []);
    } finally {
      await linked.context().close();
    }
  }));
  test('read-only token: no write controls, and a forged write gets 403', () => scenario('read-only', async (server, page) => {
    const reader = await server.token('auditor', { kind: 'reader' });
    await signIn(page, server, reader);
    assert.equal(await page.locator('.who-name').innerText(), 'auditor (read)');
    await page.locator('.badge', { hasText: 'Read-only' }).waitFor();
    await openFlag(page, 'kill-recommendations');
    for (const name of ['Kill kill-recommendations', 'Change rollout…']) {
      assert.equal(await page.getByRole('button', { name }).count(), 0, name);
    }
    assert.equal(await page.getByText('Edit as JSON').count(), 0);
    await noSeriousViolations(page, 'flag page, read-only');
    await screenshot(page, 'read-only');
    await page.getByRole('link', { name: 'History' }).click();
    await page.locator('table.history-table').waitFor();
    assert.equal(await page.getByRole('button', { name: /Roll back/ }).count(), 0);
    await page.getByRole('link', { name: 'Kill by tag' }).click();
    await page.locator('table.tags-table').waitFor();
    assert.equal(await page.getByRole('button', { name: /Preview/ }).count(), 0);
    await noSeriousViolations(page, 'kill by tag, read-only');
    const forged = await page.evaluate(async () => {
      const r = await fetch('/v1/admin/envs/production/flags/kill-recommendations/kill', {
        method: 'POST',
        headers: { Authorization: `Bearer ${sessionStorage.getItem('hotfix.console.token')}`, 'Content-Type': 'application/json' },
        body: JSON.stringify({ reason: 'forged from the read-only page' }),
      });
      return r.status;
    });
    assert.equal(forged, 403);
    assert.equal((await server.flag('kill-recommendations')).killed, undefined);
  }));
  test('keyboard only: sign in, find the flag, kill it', () => scenario('keyboard', async (server, page) => {
    // Tab until `selector` has focus (as a keyboard user would), at most 40 times.
    const tabTo = async (selector) => {
      for (let i = 0; i < 40; i += 1) {
        if (await page.evaluate((s) => document.activeElement && document.activeElement.matches(s), selector)) return;
        await page.keyboard.press('Tab');
      }
      throw new Error(`Tab never reached ${selector}`);
    };
    await page.goto(`${server.url}/ui/`);
    await page.locator('#token').waitFor();
    await tabTo('#token');
    await page.keyboard.type(ADMIN_TOKEN);
    await page.keyboard.press('Enter');
    await page.locator('table.flags-table').waitFor();
    await tabTo('#flag-search');
    await page.keyboard.type('kill-recomm');
    await page.keyboard.press('Enter');
    await page.locator('h1', { hasText: 'kill-recommendations' }).waitFor();
    await tabTo('#kill-button');
    const outline = await page.evaluate(() => getComputedStyle(document.activeElement).outlineStyle);
    assert.notEqual(outline, 'none', 'focus is visible');
    await page.keyboard.press('Enter');
    await page.locator('dialog[open]').waitFor();
    assert.equal(await page.evaluate(() => document.activeElement.getAttribute('aria-describedby') !== null &&
      document.activeElement.closest('dialog') !== null), true, 'focus is in the reason field');
    await page.keyboard.type('killed from the keyboard');
    await page.keyboard.press('Enter');
    await page.locator('.state-killed').waitFor();
    assert.equal((await server.flag('kill-recommendations')).killed, true);
    await screenshot(page, 'keyboard-kill');
  }));
  test('from another site: no framing, and no request carries the operator\'s power', () => scenario('cross-site', async (server, page) => {
    const response = await page.goto(`${server.url}/ui/`);
    const headers = response.headers();
    assert.match(headers['content-security-policy'], /frame-ancestors 'none'/);
    assert.equal(headers['x-frame-options'], 'DENY');
    await signIn(page, server);
    // A page on another origin (localhost vs 127.0.0.1) in the same
    // browser, while the operator is signed in: it can neither frame the
    // console nor make the browser send an authorized request.
    const evil = await page.context().newPage();
    const origin = server.url.replace('127.0.0.1', 'localhost');
    await evil.goto(`${origin}/healthz`);
    const attempt = await evil.evaluate(async (target) => {
      const frame = document.createElement('iframe');
      frame.src = `${target}/ui/`;
      document.body.appendChild(frame);
      await new Promise((resolve) => { frame.onload = resolve; setTimeout(resolve, 3000); });
      let framed = 'blocked';
      try {
        framed = frame.contentDocument ? frame.contentDocument.title : 'blocked';
      } catch {
        framed = 'blocked';
      }
      let status;
      try {
        status = (await fetch(`${target}/v1/admin/envs/production/flags/kill-recommendations/kill`, {
          method: 'POST', credentials: 'include', mode: 'no-cors', body: '{"reason":"csrf"}',
        })).type;
      } catch (e) {
        status = e.name;
      }
      return { framed, status };
    }, server.url);
    assert.notEqual(attempt.framed, 'hotfix console');
    assert.equal((await server.flag('kill-recommendations')).killed, undefined, 'the cross-site request changed nothing');
    await screenshot(evil, 'cross-site-frame-refused');
    await evil.close();
  }));
});
