// tests/ui/console.test.mjs — the operator console in a real browser
// (Debian's Chromium, headless, driven by playwright-core), against a real
// hotfixd on 127.0.0.1. Each scenario starts its own hotfixd, signs in like
// an operator, does its job through the page only (clicks and keys),
// checks the outcome where it counts (the admin API, hotfixctl, a streaming
// SDK service), runs axe-core on every page it shows, and saves a
// screenshot under build/logs/ui/. Any page error, console error, alert()
// or CSP violation fails the scenario.

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';

import {
  ADMIN_TOKEN, SDK_KEY, Server, Service, axe, axeResults, launchBrowser, openPage, screenshot, signIn, until,
} from './harness.mjs';

const ENV = '/v1/admin/envs/production';
let browser;
// hotfixd processes told to stop (SIGTERM), awaited at the end: hotfixd
// can take its whole shutdown grace period (10 s) to exit after serving a
// stream, and the next scenario need not wait for that.
const stopping = [];

before(async () => { browser = await launchBrowser(); });
after(async () => {
  await browser.close();
  await Promise.all(stopping);
  const pages = axeResults.length;
  const bad = axeResults.flatMap((r) => r.violations.filter((v) => ['serious', 'critical'].includes(v.impact)));
  const minor = axeResults.flatMap((r) => r.violations.filter((v) => !['serious', 'critical'].includes(v.impact)));
  console.log(`axe-core: ${pages} page states checked, ${bad.length} serious or critical violations, ` +
    `${minor.length} minor or moderate (${[...new Set(minor.map((v) => v.id))].join(', ') || 'none'})`);
});

// Runs `body(server, page)` with a fresh hotfixd and a signed-out page;
// stops both, and fails on anything the page reported.
async function scenario(name, body, { args = [], page: pageOptions } = {}) {
  const server = await Server.start(args);
  const page = await openPage(browser, pageOptions);
  try {
    await body(server, page);
    assert.deepEqual(page.problems, [], 'the page reported problems');
  } catch (error) {
    await screenshot(page, `${name}-FAILED`).catch(() => {});
    error.message += `\nhotfixd log:\n${server.log.slice(-2000)}`;
    throw error;
  } finally {
    await page.context().close();
    stopping.push(server.stop());
  }
}

async function noSeriousViolations(page, name) {
  assert.deepEqual(await axe(page, name), [], `axe-core on ${name}`);
}

async function openFlag(page, key) {
  await page.getByRole('link', { name: key, exact: true }).click();
  await page.locator('h1', { hasText: key }).waitFor();
}

// Fills the open dialog's reason and confirms with the named button.
async function confirmWithReason(page, reason, button) {
  const dialog = page.locator('dialog[open]');
  await dialog.getByLabel('Reason').fill(reason);
  await dialog.getByRole('button', { name: button }).click();
  await dialog.waitFor({ state: 'detached' });
}

describe('console', () => {
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
    const linked = await openPage(browser);
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

  test('kill with a reason: hotfixctl, the audit log and a streaming service agree', () => scenario('kill', async (server, page) => {
    const service = new Service(server);
    try {
      await until('the service to stream its flags', () => service.find(/recommendations on .*stream\/valid/), 15000);
      await signIn(page, server);
      await openFlag(page, 'kill-recommendations');
      assert.match(await page.locator('.state').innerText(), /^Live: everyone gets on \(true\)\.$/);
      await noSeriousViolations(page, 'flag page');
      await page.getByRole('button', { name: 'Kill kill-recommendations' }).click();
      const dialog = page.locator('dialog[open]');
      await dialog.waitFor();
      await noSeriousViolations(page, 'kill dialog');
      await dialog.getByLabel('Reason').fill('recommendation service timing out (INC-42)');
      const clicked = performance.now();
      await dialog.getByRole('button', { name: 'Kill' }).click();
      const switched = await until('the service to switch', () => service.find(/flags changed .*kill-recommendations/, clicked), 5000);
      const ms = switched.at - clicked;
      console.log(`kill: the streaming service switched ${ms.toFixed(0)} ms after the click`);
      assert.ok(ms < 1000, `the service switched after ${ms} ms`);
      await until('traffic to skip recommendations', () => service.find(/recommendations OFF/, switched.at), 5000);
      await page.locator('.state-killed').waitFor();
      assert.match(await page.locator('.state').innerText(), /^Killed: everyone gets off \(false\)\.$/);
      await page.getByRole('button', { name: 'Revive kill-recommendations' }).waitFor();
      const get = await server.ctl(['get', 'kill-recommendations']);
      assert.equal(get.code, 0, get.stderr);
      assert.equal(JSON.parse(get.stdout).killed, true);
      const audit = (await server.api('GET', '/v1/admin/audit?limit=1')).data.entries[0];
      assert.equal(audit.action, 'flag.kill');
      assert.equal(audit.actor, 'bootstrap-admin');
      assert.equal(audit.reason, 'recommendation service timing out (INC-42)');
      await page.locator('.toast', { hasText: 'Killed kill-recommendations' }).waitFor();
      await noSeriousViolations(page, 'killed flag page');
      await screenshot(page, 'kill');
    } finally {
      await service.stop();
    }
  }));

  test('ramp a rollout with a confirmation', () => scenario('rollout', async (server, page) => {
    await signIn(page, server);
    await openFlag(page, 'fix-double-charge');
    assert.match(await page.locator('.state').innerText(), /1 rule decides first; everyone else gets on \(true\) to 25%, off \(false\) to 75%, by key/);
    assert.match(await page.locator('.rules').innerText(), /If region is eu: serve on \(true\)/);
    await page.getByLabel('Share of users who get on (true), in percent').fill('50');
    await page.getByRole('button', { name: 'Change rollout…' }).click();
    const dialog = page.locator('dialog[open]');
    await dialog.getByText('From 25% to 50% of users get on (true). Only users are added.').waitFor();
    await dialog.getByText('fix-double-charge: rollout on 25% / off 75% → rollout on 50% / off 50%').waitFor();
    await noSeriousViolations(page, 'rollout dialog');
    await screenshot(page, 'rollout-confirm');
    await confirmWithReason(page, 'PAY-123: clean at 25% for an hour', 'Set to 50%');
    const flag = await server.flag('fix-double-charge');
    assert.deepEqual(flag.default.rollout.split.map((e) => e.weight), [50, 50]);
    await page.locator('.state', { hasText: 'on (true) to 50%' }).waitFor();
    await screenshot(page, 'rollout');
  }));

  test('history: a readable diff, and one-click rollback with a reason', () => scenario('rollback', async (server, page) => {
    await server.api('POST', `${ENV}/flags/fix-double-charge/rollout`, { body: { reason: 'ramp', percent: 80 } });
    await server.api('POST', `${ENV}/flags/payment-retries/kill`, { body: { reason: 'declines spiking' } });
    await signIn(page, server);
    await page.getByRole('link', { name: 'History' }).click();
    await page.locator('table.history-table').waitFor();
    assert.equal(await page.locator('table.history-table tbody tr').count(), 3);
    await page.getByLabel('From').selectOption('1');
    await page.getByLabel('To').selectOption('3');
    await page.getByRole('button', { name: 'Compare' }).click();
    const diff = page.locator('.diff-box');
    await diff.getByRole('heading', { name: 'Changes from v1 to v3' }).waitFor();
    assert.match(await diff.innerText(), /fix-double-charge: rollout on 25% \/ off 75% → rollout on 80% \/ off 20%/);
    assert.match(await diff.innerText(), /killed\s+\(not set\)\s+true/);
    await noSeriousViolations(page, 'history with a diff');
    await page.getByRole('button', { name: 'Roll back to v1…' }).click();
    const dialog = page.locator('dialog[open]');
    await dialog.getByText('Creates version 4 holding the flags of version 1.', { exact: false }).waitFor();
    await noSeriousViolations(page, 'rollback dialog');
    await confirmWithReason(page, 'back to the known-good set', 'Roll back to v1');
    const history = (await server.api('GET', `${ENV}/history?limit=1`)).data.versions[0];
    assert.equal(history.version, 4);
    assert.equal(history.restored_version, 1);
    assert.equal(history.reason, 'back to the known-good set');
    assert.equal((await server.flag('payment-retries')).killed, undefined);
    await page.locator('table.history-table', { hasText: 'rolled back (restored v1)' }).waitFor();
    await screenshot(page, 'rollback');
  }));

  test('kill by tag with a preview', () => scenario('kill-by-tag', async (server, page) => {
    await signIn(page, server);
    await page.getByRole('link', { name: 'Kill by tag' }).click();
    await page.getByRole('button', { name: 'Preview kill of payments' }).click();
    const preview = page.locator('.preview');
    await preview.getByRole('heading', { name: 'Kill everything tagged payments' }).waitFor();
    assert.match(await preview.innerText(), /This would kill 2 flags in production/);
    assert.match(await preview.innerText(), /Unchanged \(already killed\): new-wallet\./);
    assert.equal((await server.flag('fix-double-charge')).killed, undefined, 'the preview stored nothing');
    await noSeriousViolations(page, 'kill-by-tag preview');
    await screenshot(page, 'kill-by-tag-preview');
    await page.getByRole('button', { name: 'Kill 2 flags tagged payments…' }).click();
    await confirmWithReason(page, 'payment provider down', 'Kill 2 flags');
    for (const key of ['fix-double-charge', 'payment-retries', 'new-wallet']) {
      assert.equal((await server.flag(key)).killed, true, key);
    }
    assert.equal((await server.flag('kill-recommendations')).killed, undefined);
    const audit = (await server.api('GET', '/v1/admin/audit?limit=1')).data.entries[0];
    assert.deepEqual([audit.action, audit.reason, audit.detail.tag], ['tag.kill', 'payment provider down', 'payments']);
    await page.locator('table.tags-table', { hasText: '3 of 3' }).waitFor();
    await screenshot(page, 'kill-by-tag');
  }));

  test('XSS: markup in every user-controlled string stays text', () => scenario('xss', async (server, page) => {
    const payload = '<img src=x onerror="window.__pwned=1;alert(1)">';
    const evil = await server.token('<b onmouseover=alert(2)>mallory</b>', { kind: 'admin' });
    const put = await server.api('PUT', `${ENV}/flags/xss-flag`, {
      token: evil,
      body: {
        reason: '<script>window.__pwned=2</script>',
        flag: {
          variants: { '<i>on</i>': true, off: false }, off_variant: 'off', default: '<i>on</i>',
          description: payload, owner: '<svg onload=alert(3)>', ticket: '"><iframe src=javascript:alert(4)>',
          rules: [{ if: [{ attribute: '<u>plan</u>', op: 'in', values: ['<a href=javascript:alert(5)>x</a>'] }], serve: 'off' }],
        },
      },
    });
    assert.equal(put.status, 200, JSON.stringify(put.data));
    await signIn(page, server);
    const pages = [
      ['flag list', async () => page.locator('table.flags-table', { hasText: payload }).waitFor()],
      ['flag page', async () => openFlag(page, 'xss-flag')],
      ['history', async () => {
        await page.getByRole('link', { name: 'History' }).click();
        await page.locator('table.history-table', { hasText: '<script>window.__pwned=2</script>' }).waitFor();
      }],
      ['audit', async () => {
        await page.getByRole('link', { name: 'Audit log' }).click();
        await page.locator('table.audit-table', { hasText: '<b onmouseover=alert(2)>mallory</b>' }).waitFor();
      }],
    ];
    for (const [name, visit] of pages) {
      await visit();
      const text = await page.locator('main').innerText();
      assert.ok(text.includes(payload) || name !== 'flag list' && name !== 'flag page', `${name} shows the description as text`);
      const injected = await page.evaluate(() => ({
        pwned: window.__pwned === undefined ? null : window.__pwned,
        elements: document.querySelectorAll('main img, main svg, main script, main iframe, main b, main i, main u, main a[href^="javascript"]').length,
      }));
      assert.deepEqual(injected, { pwned: null, elements: 0 }, name);
    }
    await page.getByRole('link', { name: 'Flags' }).click();
    await openFlag(page, 'xss-flag');
    assert.match(await page.locator('.rules').innerText(), /If <u>plan<\/u> is <a href=javascript:alert\(5\)>x<\/a>: serve off/);
    // The page's policy itself: no string reaches an HTML sink. Chromium
    // reports the blocked call twice (a console error and a CSP violation
    // event); they are this probe's, so they are taken out of the page's
    // problems once both have arrived.
    const reported = page.problems.length;
    const sink = await page.evaluate(() => {
      try {
        document.body.insertAdjacentHTML('beforeend', '<b>x</b>');
        return 'allowed';
      } catch (e) {
        return e.name;
      }
    });
    assert.equal(sink, 'TypeError', 'Trusted Types refuse HTML strings');
    await until('the blocked sink to be reported', () => page.problems.length >= reported + 2);
    const probe = page.problems.splice(reported);
    assert.ok(probe.some((p) => /TrustedHTML/.test(p)) && probe.some((p) => /trusted-types-sink/.test(p)), probe.join('; '));
    await screenshot(page, 'xss');
  }));

  test('conflict: two pages edit one flag; one save wins, the other is told', () => scenario('conflict', async (server, page) => {
    const other = await openPage(browser);
    try {
      for (const p of [page, other]) {
        await signIn(p, server);
        await openFlag(p, 'payment-retries');
        await p.getByText('Edit as JSON').click();
      }
      const edit = async (p, description) => {
        const area = p.getByLabel('JSON of payment-retries');
        const flag = JSON.parse(await area.inputValue());
        flag.description = description;
        await area.fill(JSON.stringify(flag, null, 2));
      };
      await edit(page, 'retries: edited by page one');
      await edit(other, 'retries: edited by page two');
      await page.getByRole('button', { name: 'Save…' }).click();
      await page.locator('dialog[open]').getByText('description', { exact: true }).waitFor();
      await confirmWithReason(page, 'clarify the description', 'Save');
      assert.equal((await server.flag('payment-retries')).description, 'retries: edited by page one');
      await other.locator('.moved', { hasText: 'moved on to version 2' }).waitFor();
      await other.getByRole('button', { name: 'Save…' }).click();
      await other.getByText('Someone else changed this environment after you loaded it (it is now at version 2). Nothing was saved').waitFor();
      assert.equal((await server.flag('payment-retries')).description, 'retries: edited by page one');
      assert.match(await other.getByLabel('JSON of payment-retries').inputValue(), /edited by page two/, 'the edit is kept');
      await noSeriousViolations(other, 'editor with a conflict');
      await screenshot(other, 'conflict');
      assert.deepEqual(other.problems, []);
    } finally {
      await other.context().close();
    }
  }));

  test('edit as JSON: the compiler\'s error is shown at the field', () => scenario('editor', async (server, page) => {
    await signIn(page, server);
    await openFlag(page, 'fix-double-charge');
    await page.getByText('Edit as JSON').click();
    const area = page.getByLabel('JSON of fix-double-charge');
    const text = await area.inputValue();
    const edited = text.replace('"op": "eq"', '"op": "betwen"');
    // Where the compiler's path (rules[0].if[0].op) is in the text.
    const at = edited.indexOf('"op": "betwen"');
    const line = edited.slice(0, at).split('\n').length;
    const column = at - edited.lastIndexOf('\n', at - 1);
    await area.fill(edited);
    await page.getByRole('button', { name: 'Check' }).click();
    const problem = page.locator('.editor-problems');
    await problem.getByText(`Line ${line}, column ${column}: unknown operator "betwen"`).waitFor();
    assert.match(await problem.locator('pre').innerText(), /"op": "betwen",?\n\s+\^{14}/);
    assert.equal(await area.getAttribute('aria-invalid'), 'true');
    await problem.getByRole('button', { name: `Select it in the editor (line ${line})` }).click();
    const selected = await area.evaluate((a) => a.value.slice(a.selectionStart, a.selectionEnd));
    assert.equal(selected, '"op": "betwen"');
    await noSeriousViolations(page, 'editor with a compiler error');
    await screenshot(page, 'editor-error');
    await area.fill(text.replace('"owner": "payments-oncall",', '"owner": "payments-oncall"'));
    await page.getByRole('button', { name: 'Check' }).click();
    await problem.getByText(/^Line \d+, column \d+: not valid JSON/).waitFor();
    await area.fill(text.replace('"owner": "payments-oncall"', '"owner": "checkout-oncall"'));
    await page.getByRole('button', { name: 'Save…' }).click();
    await confirmWithReason(page, 'new owner', 'Save');
    assert.equal((await server.flag('fix-double-charge')).owner, 'checkout-oncall');
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

  test('protected environment: a ramp waits for approval, a kill does not', () => scenario('approvals', async (server, page) => {
    await server.api('PUT', `${ENV}/settings`, { body: { reason: 'release freeze', protected: true } });
    const alice = await server.token('alice', { kind: 'admin' });
    await signIn(page, server, alice);
    await openFlag(page, 'fix-double-charge');
    await page.getByLabel('Share of users who get on (true), in percent').fill('40');
    await page.getByRole('button', { name: 'Change rollout…' }).click();
    await confirmWithReason(page, 'PAY-123: next step', 'Set to 40%');
    await page.locator('.toast', { hasText: 'Change request 1 proposed' }).waitFor();
    await page.locator('.notice', { hasText: 'Waiting for approval: request 1 by alice' }).waitFor();
    assert.deepEqual((await server.flag('fix-double-charge')).default.rollout.split[0].weight, 25);
    await page.getByRole('button', { name: 'Kill fix-double-charge' }).click();
    await confirmWithReason(page, 'double charges again', 'Kill');
    assert.equal((await server.flag('fix-double-charge')).killed, true, 'kills never wait');
    // Someone else approves the ramp from their own console.
    const approver = await openPage(browser);
    try {
      await signIn(approver, server);
      await approver.getByRole('link', { name: 'Change requests' }).click();
      await approver.getByRole('heading', { name: /Request 1: changed a rollout/ }).waitFor();
      await noSeriousViolations(approver, 'change requests');
      await screenshot(approver, 'approvals');
      await approver.getByRole('button', { name: 'Approve…' }).click();
      await confirmWithReason(approver, 'dashboards clean', 'Approve and apply');
      await approver.getByText('Nothing awaits approval.').waitFor();
      assert.deepEqual(approver.problems, []);
    } finally {
      await approver.context().close();
    }
    assert.deepEqual((await server.flag('fix-double-charge')).default.rollout.split[0].weight, 40);
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
