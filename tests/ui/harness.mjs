// tests/ui/harness.mjs — what the browser scenarios run on: a real hotfixd
// on 127.0.0.1 (its own temporary data directory and port, stopped at the
// end), the admin API and hotfixctl to set up and check what the console
// did, Debian's Chromium driven by playwright-core (no browser download),
// axe-core on a page, screenshots under build/logs/ui/, and a bounded wait
// for a condition. Nothing here sleeps for a fixed time: every wait is for
// a condition, with a deadline that fails the test.
//
// Environment: HOTFIXD, HOTFIXCTL, KILL_SWITCH_SERVICE (binaries),
// CHROMIUM (default /usr/bin/chromium), HOTFIX_UI_LOGS (default
// build/logs/ui).

import { spawn, execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, mkdir } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, '../..');
const build = path.join(root, 'build/release');

export const BIN = {
  hotfixd: process.env.HOTFIXD || path.join(build, 'tools/hotfixd'),
  hotfixctl: process.env.HOTFIXCTL || path.join(build, 'tools/hotfixctl'),
  service: process.env.KILL_SWITCH_SERVICE || path.join(build, 'examples/kill_switch_service/kill_switch_service'),
};
export const LOGS = process.env.HOTFIX_UI_LOGS || path.join(root, 'build/logs/ui');
export const FLAGS = path.join(here, 'flags.json');
export const ADMIN_TOKEN = 'ui-test-admin-token-0123456789abcdef';
export const SDK_KEY = 'ui-test-sdk-key-0123456789abcdef0';

// until()
//
// Polls `check` (sync or async) every 25 ms until it returns a truthy value,
// which it returns; throws naming `what` after `ms`. A check that throws is
// retried (the condition may not hold yet), unless it throws a Hopeless: then
// waiting longer cannot help.
export class Hopeless extends Error {}

export async function until(what, check, ms = 10000) {
  const deadline = Date.now() + ms;
  let last;
  for (;;) {
    try {
      last = await check();
      if (last) return last;
    } catch (e) {
      if (e instanceof Hopeless) throw e;
      last = e;
    }
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what} (last: ${last})`);
    await delay(25);
  }
}

// ------------------------------------------------------------------ hotfixd

export class Server {
  // Starts hotfixd with the test flag set; resolves once it listens.
  static async start(extraArgs = []) {
    const dir = await mkdtemp(path.join(tmpdir(), 'hotfix-ui-'));
    const portFile = path.join(dir, 'port');
    const child = spawn(BIN.hotfixd, [
      '--data-dir', path.join(dir, 'data'), '--host', '127.0.0.1', '--port', '0',
      '--port-file', portFile, '--bootstrap-flags', FLAGS, '--heartbeat-interval', '2s', ...extraArgs,
    ], {
      env: { PATH: process.env.PATH, HOTFIX_ADMIN_TOKEN: ADMIN_TOKEN, HOTFIX_SDK_KEY: SDK_KEY },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    const server = new Server(child, dir);
    child.stderr.on('data', (d) => { server.log += d; });
    const port = await until('hotfixd to listen', async () => {
      if (child.exitCode !== null) throw new Hopeless(`hotfixd exited (${child.exitCode}): ${server.log}`);
      return Number((await readFile(portFile, 'utf8').catch(() => '')).trim()) || 0;
    }, 15000);
    server.url = `http://127.0.0.1:${port}`;
    return server;
  }

  constructor(child, dir) {
    this.child = child;
    this.dir = dir;
    this.log = '';
  }

  // SIGTERM, then SIGKILL if it has not exited within 30 s; removes the
  // data directory.
  async stop() {
    if (this.child.exitCode === null) {
      const exited = new Promise((resolve) => this.child.once('exit', resolve));
      this.child.kill('SIGTERM');
      const timer = setTimeout(() => this.child.kill('SIGKILL'), 30000);
      await exited;
      clearTimeout(timer);
    }
    await rm(this.dir, { recursive: true, force: true });
  }

  // One admin API call (admin token unless `token`); resolves to
  // {status, data}.
  async api(method, apiPath, { body, token = ADMIN_TOKEN, headers = {} } = {}) {
    const response = await fetch(this.url + apiPath, {
      method,
      headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json', ...headers },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await response.text();
    return { status: response.status, data: text ? JSON.parse(text) : null };
  }

  async flag(key, env = 'production') {
    const r = await this.api('GET', `/v1/admin/envs/${env}/flags/${key}`);
    return r.data.flag;
  }

  // Creates a token; returns its secret.
  async token(name, fields) {
    const r = await this.api('POST', '/v1/admin/tokens', { body: { reason: 'ui test', name, ...fields } });
    if (r.status !== 201) throw new Error(`token ${name}: ${JSON.stringify(r.data)}`);
    return r.data.token;
  }

  // Runs hotfixctl against this server; resolves to {code, stdout, stderr}.
  ctl(args, token = ADMIN_TOKEN) {
    return new Promise((resolve) => {
      execFile(BIN.hotfixctl, args, {
        env: { PATH: process.env.PATH, HOTFIX_URL: this.url, HOTFIX_TOKEN: token }, timeout: 30000,
      }, (error, stdout, stderr) => resolve({ code: error ? error.code : 0, stdout, stderr }));
    });
  }
}

// ------------------------------------------------------------------ the example service

// The kill-switch example service streaming from `server`; `lines` holds
// each line of its output with the time it arrived (performance.now()).
export class Service {
  constructor(server) {
    this.lines = [];
    this.child = spawn(BIN.service, ['--server', server.url, '--sdk-key', SDK_KEY, '--seconds', '300'], {
      env: { PATH: process.env.PATH }, stdio: ['ignore', 'pipe', 'pipe'],
    });
    let partial = '';
    this.child.stdout.setEncoding('utf8');
    this.child.stdout.on('data', (chunk) => {
      const at = performance.now();
      partial += chunk;
      const lines = partial.split('\n');
      partial = lines.pop();
      for (const text of lines) this.lines.push({ text, at });
    });
  }

  find(pattern, after = 0) {
    return this.lines.find((l) => l.at >= after && pattern.test(l.text));
  }

  async stop() {
    if (this.child.exitCode !== null) return;
    const exited = new Promise((resolve) => this.child.once('exit', resolve));
    this.child.kill('SIGTERM');
    await exited;
  }
}

// ------------------------------------------------------------------ the browser

export async function launchBrowser() {
  return chromium.launch({
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    headless: true,
    // Root in a container has no sandbox; the closed network refuses
    // Chromium's background connections, so they are switched off.
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
      '--disable-component-update', '--disable-sync', '--disable-dev-shm-usage'],
  });
}

// A fresh browser context (its own sessionStorage) with a page that fails
// the test on any uncaught error, console error, dialog (alert() from an
// injected script) or CSP violation.
export async function openPage(browser, { viewport = { width: 1280, height: 860 }, colorScheme = 'light' } = {}) {
  const context = await browser.newContext({ viewport, colorScheme, reducedMotion: 'reduce' });
  const page = await context.newPage();
  page.problems = [];
  page.on('pageerror', (e) => page.problems.push(`page error: ${e.message}`));
  page.on('console', (m) => {
    // 4xx answers the scenario provokes on purpose show as console errors.
    if (m.type() === 'error' && !/status of (400|401|403|404|409|412)/.test(m.text())) {
      page.problems.push(`console: ${m.text()}`);
    }
  });
  page.on('dialog', (d) => {
    page.problems.push(`dialog: ${d.message()}`);
    d.dismiss();
  });
  await page.exposeFunction('__reportViolation', (v) => page.problems.push(`CSP violation: ${v}`));
  await page.addInitScript(() => {
    document.addEventListener('securitypolicyviolation', (e) => window.__reportViolation(`${e.violatedDirective} ${e.blockedURI}`));
  });
  return page;
}

// Signs in through the form; resolves once the flag list is there.
export async function signIn(page, server, token = ADMIN_TOKEN) {
  await page.goto(`${server.url}/ui/`);
  await page.locator('#token').fill(token);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.locator('table.flags-table').waitFor();
}

export async function screenshot(page, name) {
  await mkdir(LOGS, { recursive: true });
  const file = path.join(LOGS, `${name}.png`);
  await page.screenshot({ path: file, fullPage: true });
  return file;
}

// ------------------------------------------------------------------ axe

const axeSource = await readFile(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');

// Every axe run: {page name → violations}, for the stage's summary.
export const axeResults = [];

// axe()
//
// Runs axe-core (WCAG 2.0-2.2 A and AA and best practices) on the page as
// it is now and returns the serious and critical violations. axe is
// evaluated through the DevTools protocol, which the page's CSP does not
// govern, so the page is checked with its real policy in force.
export async function axe(page, name) {
  await page.evaluate(axeSource);
  const result = await page.evaluate(() => window.axe.run(document, {
    runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa', 'best-practice'] },
  }));
  const all = result.violations.map((v) => ({ id: v.id, impact: v.impact, nodes: v.nodes.length, help: v.help,
    targets: v.nodes.slice(0, 3).map((n) => n.target.join(' ')) }));
  axeResults.push({ name, violations: all, passes: result.passes.length });
  return all.filter((v) => v.impact === 'serious' || v.impact === 'critical');
}
