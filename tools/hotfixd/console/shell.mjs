// shell.mjs — what surrounds every view once someone is signed in: the
// header (environment switcher, navigation, who is signed in and with which
// scopes, whether the page is live), the live stream of the current
// environment, and the announcements of changes made elsewhere.
//
// A view is a module with show(ctx, route) that renders into ctx.root and
// may return {refresh(change)}: the shell calls refresh when the
// environment moves to a newer version, whoever moved it.

import * as api from './api.mjs';
import { h, replace } from './dom.mjs';
import { LiveStream } from './live.mjs';
import * as router from './router.mjs';
import * as session from './session.mjs';
import { actionText } from './format.mjs';
import { badge, errorNotice, notice, title } from './widgets.mjs';

const NAV = [
  ['flags', 'Flags'],
  ['history', 'History'],
  ['audit', 'Audit log'],
  ['tags', 'Kill by tag'],
  ['requests', 'Change requests'],
];

const LIVE_TEXT = {
  connecting: 'Connecting…',
  live: 'Live',
  reconnecting: 'Reconnecting…',
  stopped: 'Not live',
};

export class Shell {
  constructor({ onSignOut }) {
    this.onSignOut = onSignOut;
    this.envs = [];
    this.env = null;
    this.version = 0;
    this.live = null;
    this.view = null;
    this.place = '';
    this.own = new Set();  // versions this page wrote: not announced
    this.announced = 0;
    this.pending = null;
    this.main = document.getElementById('main');
    this.toasts = document.getElementById('toasts');
    this.liveState = h('span', { class: 'live', dataset: { state: 'connecting' } }, LIVE_TEXT.connecting);
  }

  async loadEnvs() {
    const { data } = await api.get('/v1/admin/envs');
    this.envs = data.environments;
  }

  // Renders `route` with `view`, switching environments when it names
  // another one.
  async show(route, view) {
    if (route.env !== this.env) this.follow(route.env);
    this.header(route);
    const root = h('div', { class: 'view' });
    this.main.replaceChildren(root);
    const place = `${route.name}/${route.env}/${route.key || ''}`;
    const moved = place !== this.place;
    this.place = place;
    this.view = null;
    const info = this.envs.find((e) => e.name === route.env);
    if (!info) {
      root.append(title('No such environment'), notice('error',
        `There is no environment "${route.env}", or your token cannot see it.`),
      this.envs.length ? h('p', null, h('a', { href: router.href('flags', { env: this.envs[0].name }) },
        `Go to ${this.envs[0].name}`)) : null);
      this.focusTitle(root);
      return;
    }
    try {
      const shown = await view.show(this.context(root, route, info), route);
      if (this.main.firstChild === root) this.view = shown || null;
    } catch (error) {
      root.append(errorNotice(error));
    }
    if (moved && this.main.firstChild === root) this.focusTitle(root);
  }

  focusTitle(root) {
    const heading = root.querySelector('h1');
    if (heading) heading.focus({ preventScroll: false });
  }

  // What a view gets: its root, the environment, the signed-in principal's
  // powers, and ways to report writes and show messages.
  context(root, route, info) {
    return {
      root,
      env: route.env,
      info,
      me: session.me(),
      canWrite: session.has('write'),
      canApprove: session.has('approve'),
      version: () => this.version,
      toast: (text, tone) => this.toast(text, tone),
      // wrote(answer, doneText): after a write answered 200/201/202.
      wrote: (answer, doneText) => this.wrote(answer, doneText),
    };
  }

  wrote({ status, data }, doneText) {
    if (status === 202) {
      this.toast(`Change request ${data.id} proposed: it is applied when someone with the approve scope approves it.`, 'warn');
      return;
    }
    if (data.changed === false) {
      this.toast('Nothing changed: it already was so.', 'info');
      return;
    }
    this.own.add(data.version);
    this.toast(doneText, 'ok');
  }

  // ------------------------------------------------------------ header

  header(route) {
    const env = route.env;
    const picker = h('select', {
      id: 'env-select', class: 'env-select',
      on: { change: (e) => router.go(router.href(route.name === 'flag' ? 'flags' : route.name, { env: e.target.value })) },
    }, this.envs.map((e) => h('option', { value: e.name, selected: e.name === env },
      `${e.name} · v${e.version}${e.protected ? ' · protected' : ''}`)));
    document.getElementById('env-picker').replaceChildren(
      h('label', { for: 'env-select', class: 'env-label' }, 'Environment'), picker);
    const current = route.name === 'flag' ? 'flags' : route.name;
    document.getElementById('nav').replaceChildren(h('ul', null, NAV.map(([name, text]) =>
      h('li', null, h('a', {
        href: router.href(name, { env }),
        'aria-current': name === current ? 'page' : null,
      }, text)))));
    const me = session.me();
    const scopes = [...me.scopes].join(', ');
    replace(document.getElementById('who'),
      this.liveState,
      h('span', { class: 'who-name', title: `token ${me.tokenId}` },
        me.name, h('span', { class: 'who-scopes' }, ` (${scopes}${me.env ? `; ${me.env} only` : ''})`)),
      session.has('write') ? null : badge('Read-only', 'warn'),
      h('button', { type: 'button', class: 'button button-small', on: { click: () => this.onSignOut() } }, 'Sign out'));
  }

  // ------------------------------------------------------------ live

  // Starts following `env` (and stops following the previous one).
  follow(env) {
    if (this.live) this.live.stop();
    this.env = env;
    session.rememberEnv(env);
    const info = this.envs.find((e) => e.name === env);
    this.version = info ? info.version : 0;
    this.announced = this.version;
    this.live = null;
    if (!info) return;
    this.live = new LiveStream({
      env,
      token: session.token(),
      onChange: (change) => this.changed(change),
      onStatus: (state) => {
        this.liveState.dataset.state = state;
        this.liveState.textContent = LIVE_TEXT[state];
      },
      onUnauthorized: () => this.onSignOut('Your token is no longer accepted (revoked?). Sign in again.'),
    });
    this.live.start();
  }

  // A put or patch arrived. Views refresh at most once per 150 ms burst.
  changed(change) {
    if (change.version <= this.version) return;
    this.version = change.version;
    const info = this.envs.find((e) => e.name === this.env);
    if (info) info.version = change.version;
    const option = [...document.querySelectorAll('#env-select option')].find((o) => o.value === this.env);
    if (option && info) option.textContent = `${info.name} · v${info.version}${info.protected ? ' · protected' : ''}`;
    clearTimeout(this.pending);
    this.pending = setTimeout(() => {
      if (this.view && this.view.refresh) this.view.refresh(change);
      this.announce();
    }, 150);
  }

  // Toasts for versions others made since the last announcement: who did
  // what, and why.
  async announce() {
    const env = this.env;
    const since = this.announced;
    const upto = this.version;
    this.announced = upto;
    const others = [];
    for (let v = since + 1; v <= upto; v += 1) if (!this.own.has(v)) others.push(v);
    if (others.length === 0) return;
    try {
      const { data } = await api.get(api.envPath(env, 'history'), { query: { limit: Math.min(10, upto - since) } });
      for (const v of data.versions.slice().reverse()) {
        if (!others.includes(v.version)) continue;
        const keys = v.changed_keys.length ? ` ${v.changed_keys.join(', ')}` : '';
        this.toast(`v${v.version}: ${v.actor} ${actionText(v.action)}${keys} — “${v.reason}”`, 'info');
      }
    } catch {
      // The view shows the change anyway; the toast is a courtesy.
    }
  }

  toast(text, tone = 'info') {
    const item = h('div', { class: ['toast', `toast-${tone}`] },
      h('span', null, text),
      h('button', { type: 'button', class: 'toast-close', 'aria-label': 'Dismiss', on: { click: () => item.remove() } }, '×'));
    this.toasts.append(item);
    while (this.toasts.children.length > 4) this.toasts.firstChild.remove();
    setTimeout(() => item.remove(), 20000);
  }

  stop() {
    if (this.live) this.live.stop();
    this.live = null;
    clearTimeout(this.pending);
  }
}
