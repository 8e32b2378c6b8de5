// tests/ui/changes.test.mjs — the operator console in a real browser: the
// writes an operator makes: kill with a reason (hotfixctl, the audit log and
// a streaming service agree), ramp a rollout, roll back from history, kill by
// tag with a preview, edit as JSON with the compiler's errors at the field,
// two pages editing one flag (412), and a protected environment where a ramp
// waits for approval but a kill does not. How every scenario runs is in
// scenario.mjs.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';

import { Service, openPage, screenshot, signIn, until } from './harness.mjs';
import { ENV, browser, confirmWithReason, noSeriousViolations, openFlag, scenario } from './scenario.mjs';

describe('console: changes', () => {
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
  test('conflict: two pages edit one flag; one save wins, the other is told', () => scenario('conflict', async (server, page) => {
    const other = await openPage(browser());
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
    const approver = await openPage(browser());
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
});
