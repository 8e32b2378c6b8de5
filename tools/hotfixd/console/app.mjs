// app.mjs — the console's entry point (loaded by index.html): signs the
// operator in (from the sign-in form, a sign-in link, or the token this tab
// already holds), then renders the view the URL fragment names inside the
// shell, again at every change of the fragment.

import * as api from './api.mjs';
import { h } from './dom.mjs';
import * as router from './router.mjs';
import * as session from './session.mjs';
import { Shell } from './shell.mjs';
import * as auditView from './view_audit.mjs';
import * as flagView from './view_flag.mjs';
import * as flagsView from './view_flags.mjs';
import * as historyView from './view_history.mjs';
import * as requestsView from './view_requests.mjs';
import * as signinView from './view_signin.mjs';
import * as tagsView from './view_tags.mjs';

const VIEWS = {
  flags: flagsView,
  flag: flagView,
  history: historyView,
  audit: auditView,
  tags: tagsView,
  requests: requestsView,
};

let shell = null;
// Said on the sign-in page after a sign-out the operator did not ask for.
let farewell = '';

function signOut(message = '') {
  farewell = message;
  session.signOut();
  if (shell) shell.stop();
  shell = null;
  for (const id of ['env-picker', 'nav', 'who']) document.getElementById(id).replaceChildren();
  router.go(router.href('signin'));
}

// The environment to start in: the sign-in link's, the last one used in
// this tab, the token's own, the server's first.
function startEnv() {
  const names = shell.envs.map((e) => e.name);
  for (const candidate of [session.lastEnv(), session.me().env]) {
    if (candidate && names.includes(candidate)) return candidate;
  }
  return names[0];
}

async function render() {
  const route = router.parse(location.hash);
  const main = document.getElementById('main');
  if (!session.me() || route.name === 'signin') {
    if (session.me()) {
      router.go('#/');
      return;
    }
    if (shell) shell.stop();
    shell = null;
    const next = route.name === 'signin' ? (route.query.get('next') || '') : location.hash;
    main.replaceChildren(signinView.show({ message: farewell, next, signedIn }));
    farewell = '';
    return;
  }
  if (!shell) {
    shell = new Shell({ onSignOut: signOut });
    try {
      await shell.loadEnvs();
    } catch (error) {
      shell = null;
      main.replaceChildren(h('p', { role: 'alert' }, `The environments could not be loaded: ${error.message}`));
      return;
    }
  }
  if (route.name === null || !route.env) {
    const env = startEnv();
    history.replaceState(null, '', env ? router.href('flags', { env }) : router.href('signin'));
    render();
    return;
  }
  await shell.show(route, VIEWS[route.name]);
}

// After a successful sign-in: to where the operator was going.
function signedIn(next) {
  if (next && router.parse(next).name && router.parse(next).name !== 'signin') {
    router.go(next);
  } else {
    router.go('#/');
  }
}

async function boot() {
  api.configure({
    token: session.token,
    onUnauthorized: () => signOut('Your token is no longer accepted (revoked?). Sign in again.'),
  });
  const link = session.takeLinkToken();
  const saved = link ? link.token : session.token();
  if (saved) {
    try {
      await session.signIn(saved);
      if (link && link.env) session.rememberEnv(link.env);
    } catch (error) {
      session.signOut();
      farewell = error.status === 401 ? 'That sign-in token is not accepted.' : error.message;
    }
  }
  window.addEventListener('hashchange', render);
  document.getElementById('skip').addEventListener('click', () => document.getElementById('main').focus());
  render();
}

boot();
