// session.mjs — who is signed in.
//
// The operator's token is kept in this tab's sessionStorage: it is sent only
// as an Authorization header to this server's API (never in a cookie, never
// in a URL the server sees), it goes away when the tab closes, and other
// tabs and sites never see it. A sign-in link carries the token in the URL
// fragment (#token=...), which browsers never send; the console moves it into
// sessionStorage and removes it from the address bar and history at once.

import { get } from './api.mjs';

const TOKEN_KEY = 'hotfix.console.token';
const ENV_KEY = 'hotfix.console.env';

// The signed-in principal: {name, tokenId, scopes (Set), env ('' = all)}.
let principal = null;

export function token() {
  return sessionStorage.getItem(TOKEN_KEY);
}

export function me() {
  return principal;
}

// True if the signed-in token has `scope` ("read", "write", "approve", ...).
export function has(scope) {
  return principal !== null && principal.scopes.has(scope);
}

// signIn()
//
// Asks the server who `secret` is (GET /v1/admin/whoami); keeps it only if
// the server accepts it. Rejects with the ApiError otherwise.
export async function signIn(secret) {
  const { data } = await get('/v1/admin/whoami', { token: secret });
  sessionStorage.setItem(TOKEN_KEY, secret);
  principal = {
    name: data.name,
    tokenId: data.token_id,
    scopes: new Set(String(data.scopes).split(',').map((s) => s.trim()).filter(Boolean)),
    env: data.env || '',
  };
  return principal;
}

export function signOut() {
  sessionStorage.removeItem(TOKEN_KEY);
  principal = null;
}

// The environment last looked at in this tab, or null.
export function lastEnv() {
  return sessionStorage.getItem(ENV_KEY);
}

export function rememberEnv(env) {
  sessionStorage.setItem(ENV_KEY, env);
}

// takeLinkToken()
//
// A sign-in link (/ui/#token=SECRET&env=NAME): returns {token, env} and
// replaces the address (and its history entry) with one without the
// secret. Null for any other address.
export function takeLinkToken() {
  if (!location.hash.startsWith('#token=')) return null;
  const params = new URLSearchParams(location.hash.slice(1));
  history.replaceState(null, '', `${location.pathname}${location.search}`);
  return { token: params.get('token') || '', env: params.get('env') || '' };
}
