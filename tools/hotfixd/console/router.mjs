// router.mjs — where the console is, in the URL fragment.
//
//   #/signin
//   #/env/production/flags?q=pay&tag=payments&killed=1
//   #/env/production/flags/fix-123
//   #/env/production/history?from=41&to=43
//   #/env/production/audit?actor=alice
//   #/env/production/tags
//   #/env/production/requests
//
// The fragment never reaches the server, so the server serves one page and
// every view is a link that can be bookmarked or shared.

const VIEWS = new Set(['flags', 'history', 'audit', 'tags', 'requests']);

// parse()
//
// {name, env, key, query (URLSearchParams)} for a fragment; name is one of
// signin, flags, flag, history, audit, tags, requests, or null when the
// fragment names nothing (the caller picks a start page).
export function parse(hash) {
  const text = hash.startsWith('#') ? hash.slice(1) : hash;
  const [path, search = ''] = text.split('?', 2);
  const query = new URLSearchParams(search);
  const parts = path.split('/').filter(Boolean).map(decodeSegment);
  if (parts.length === 1 && parts[0] === 'signin') return { name: 'signin', query };
  if (parts[0] === 'env' && parts.length >= 3 && parts[1] && VIEWS.has(parts[2])) {
    if (parts.length === 3) return { name: parts[2], env: parts[1], query };
    if (parts.length === 4 && parts[2] === 'flags' && parts[3]) {
      return { name: 'flag', env: parts[1], key: parts[3], query };
    }
  }
  return { name: null, query };
}

function decodeSegment(s) {
  try {
    return decodeURIComponent(s);
  } catch {
    return '';
  }
}

// href()
//
// The fragment for a place: href('flag', {env, key}), href('flags', {env},
// {tag: 'payments'}). Empty query values are left out.
export function href(name, { env, key } = {}, query = {}) {
  let path;
  if (name === 'signin') path = '/signin';
  else if (name === 'flag') path = `/env/${encodeURIComponent(env)}/flags/${encodeURIComponent(key)}`;
  else path = `/env/${encodeURIComponent(env)}/${name}`;
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(query)) {
    if (v !== undefined && v !== null && v !== '' && v !== false) q.set(k, String(v));
  }
  const search = q.toString();
  return `#${path}${search ? `?${search}` : ''}`;
}

// Goes to a place (a new history entry; the page re-renders).
export function go(fragment) {
  location.hash = fragment;
}

// Records `fragment` as the current place without a history entry or a
// re-render: a view's filters, kept in the address so it can be shared.
export function record(fragment) {
  history.replaceState(null, '', fragment);
}
