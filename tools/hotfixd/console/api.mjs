// api.mjs — the admin API as the console calls it (docs/admin-api.md).
//
// Every call carries the operator's token as `Authorization: Bearer`; the
// console has no credentials of its own and no cookie, so a page on another
// site cannot make the browser act for the operator (there is nothing
// ambient to forge a request with). Writes send their reason in the body and,
// where the operator decided on what they saw, `If-Match` with the version
// they saw: a concurrent change then fails with 412 instead of being
// overwritten.

// An answer other than 2xx, or no answer. `code` is the API's canonical code
// ("FAILED_PRECONDITION"); `version` the current one on a 412.
export class ApiError extends Error {
  constructor(status, code, message, version = null) {
    super(message);
    this.status = status;
    this.code = code;
    this.version = version;
  }
}

let currentToken = () => null;
let unauthorized = () => {};

// configure({token, onUnauthorized}): where the token comes from, and what
// to do when the server no longer accepts it (401: revoked, or hotfixd's
// data was reset).
export function configure({ token, onUnauthorized }) {
  currentToken = token;
  unauthorized = onUnauthorized;
}

// "/v1/admin/envs/production/flags/fix-123": each part percent-encoded.
export function envPath(env, ...parts) {
  return ['/v1/admin/envs', env, ...parts].map((p, i) => (i === 0 ? p : encodeURIComponent(p))).join('/');
}

const TIMEOUT_MS = 30000;

// request()
//
// options: body (an object, sent as JSON), reason (added to the body),
// ifMatch (a version), dryRun, query (an object of parameters), signal,
// token (instead of the signed-in one: sign-in itself). Resolves to
// {status, data, version}; rejects with ApiError.
export async function request(method, path, options = {}) {
  const url = new URL(path, location.origin);
  for (const [k, v] of Object.entries(options.query || {})) {
    if (v !== undefined && v !== null && v !== '') url.searchParams.set(k, String(v));
  }
  if (options.dryRun) url.searchParams.set('dry_run', 'true');
  const headers = { Accept: 'application/json' };
  const token = options.token ?? currentToken();
  if (token) headers.Authorization = `Bearer ${token}`;
  if (options.ifMatch !== undefined && options.ifMatch !== null) headers['If-Match'] = String(options.ifMatch);
  let body;
  if (options.body !== undefined || options.reason !== undefined) {
    body = JSON.stringify({ ...(options.body || {}), ...(options.reason !== undefined ? { reason: options.reason } : {}) });
    headers['Content-Type'] = 'application/json';
  }
  const signals = [AbortSignal.timeout(TIMEOUT_MS)];
  if (options.signal) signals.push(options.signal);
  let response;
  try {
    response = await fetch(url, { method, headers, body, cache: 'no-store', signal: AbortSignal.any(signals) });
  } catch (e) {
    if (options.signal && options.signal.aborted) throw e;
    throw new ApiError(0, 'UNAVAILABLE', 'hotfixd did not answer; check that it is running and reachable');
  }
  const version = response.headers.get('X-Hotfix-Version');
  const data = await readJson(response);
  if (!response.ok) {
    const error = (data && data.error) || {};
    if (response.status === 401 && !options.token) unauthorized();
    throw new ApiError(response.status, error.code || `HTTP_${response.status}`,
      error.message || response.statusText, version === null ? null : Number(version));
  }
  return { status: response.status, data, version: version === null ? null : Number(version) };
}

async function readJson(response) {
  const text = await response.text();
  if (!text) return null;
  try {
    return JSON.parse(text);
  } catch {
    return null;
  }
}

export const get = (path, options) => request('GET', path, options);
export const post = (path, options) => request('POST', path, options);
export const put = (path, options) => request('PUT', path, options);
