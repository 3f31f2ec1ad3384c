// The pane's API client: the access token lives in memory only; the refresh
// token is kept in localStorage, and only on a device the user marked
// trusted. An expired access token is refreshed once, silently.

const REFRESH_KEY = 'salesbridge.refresh';
let access = null; // {token, expiresAt}
let user = null;
let onSignedOut = () => {};

export class ApiError extends Error {
  constructor(status, code, message, fields, details) {
    super(message);
    this.status = status; this.code = code; this.fields = fields || {}; this.details = details || {};
  }
}

// Words a sales user understands, by error code; the server's message is
// used when it is specific (field errors, admin instructions).
const WORDS = {
  unauthenticated: 'Your session has ended. Connect again to continue.',
  permission_denied: "You don't have permission to do that.",
  not_found: 'That record no longer exists.',
  conflict: 'This record already exists.',
  precondition_failed: 'Something changed meanwhile. Reload and try again.',
  payload_too_large: 'This item is too large to share.',
  rate_limited: 'Too many requests right now. Wait a moment and try again.',
  unavailable: 'SalesBridge is busy or under maintenance. Try again in a minute.',
  internal: 'Something went wrong on the server. Try again; if it keeps happening, tell your administrator.',
  network: 'No connection to SalesBridge. Check your network and retry.',
};

export function describe(err) {
  if (!(err instanceof ApiError)) return WORDS.network;
  if (err.code === 'invalid_argument' && Object.keys(err.fields).length) return 'Please correct the highlighted fields.';
  if (['invalid_argument', 'precondition_failed', 'conflict', 'permission_denied'].includes(err.code) && err.message) return err.message;
  return WORDS[err.code] || err.message || WORDS.internal;
}

export const session = {
  get user() { return user; },
  get signedIn() { return !!access; },
  onSignedOut(fn) { onSignedOut = fn; },
  storedRefresh() { try { return localStorage.getItem(REFRESH_KEY); } catch { return null; } },
  clear() { access = null; user = null; try { localStorage.removeItem(REFRESH_KEY); } catch { /* private mode */ } },
  accept(body, trusted) {
    access = { token: body.accessToken, expiresAt: Date.now() + 1000 * (body.expiresIn || 900) };
    if (body.user) user = body.user;
    try {
      if (trusted && body.refreshToken) localStorage.setItem(REFRESH_KEY, body.refreshToken);
      else if (!trusted) localStorage.removeItem(REFRESH_KEY);
    } catch { /* storage unavailable: the session lasts until reload */ }
  },
};

// raw returns the body; rawStatus also the HTTP status (200 vs 201).
async function raw(method, path, body, token) {
  return (await rawStatus(method, path, body, token)).data;
}

async function rawStatus(method, path, body, token) {
  const headers = { Accept: 'application/json' };
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  if (token) headers.Authorization = 'Bearer ' + token;
  let res;
  try {
    res = await fetch('/api/v1' + path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body), credentials: 'same-origin' });
  } catch (e) {
    throw new ApiError(0, 'network', WORDS.network);
  }
  if (res.status === 204) return { status: 204, data: null };
  let data = null;
  try { data = await res.json(); } catch { data = null; }
  if (!res.ok) {
    const e = (data && data.error) || {};
    throw new ApiError(res.status, e.code || (res.status >= 500 ? 'internal' : 'invalid_argument'), e.message || '', e.fields, e.details);
  }
  return { status: res.status, data };
}

let refreshing = null;
// refresh trades the stored refresh token for a new access token (the
// server rotates the refresh token). Concurrent callers share one request.
export function refresh() {
  const rt = session.storedRefresh();
  if (!rt) return Promise.reject(new ApiError(401, 'unauthenticated', WORDS.unauthenticated));
  if (!refreshing) {
    refreshing = raw('POST', '/session/refresh', { refreshToken: rt })
      .then((b) => { session.accept(b, true); return b; })
      .finally(() => { refreshing = null; });
  }
  return refreshing;
}

export async function exchangeHandoff(handoff, trusted) {
  const b = await raw('POST', '/session', { handoff });
  session.accept(b, trusted);
  return b;
}

// api calls the API with the session; a 401 triggers one silent refresh,
// and a refused refresh signs the pane out with the reason.
export async function api(method, path, body) {
  return (await apiStatus(method, path, body)).data;
}

// apiStatus is api with the HTTP status: {status, data}.
export async function apiStatus(method, path, body) {
  if (!access) await refresh().catch((e) => { signOut(e); throw e; });
  try {
    return await rawStatus(method, path, body, access && access.token);
  } catch (e) {
    if (e.status !== 401) throw e;
    try { await refresh(); } catch (re) { signOut(re.status ? re : e); throw re; }
    return rawStatus(method, path, body, access.token);
  }
}

function signOut(reason) {
  if (reason && reason.code === 'network') return;
  session.clear();
  onSignedOut(reason);
}

export async function loadMe() {
  const me = await api('GET', '/me');
  user = me.user || me;
  return user;
}

export function qs(params) {
  const u = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) {
    if (Array.isArray(v)) v.forEach((x) => u.append(k, x));
    else if (v !== undefined && v !== null && v !== '') u.append(k, v);
  }
  const s = u.toString();
  return s ? '?' + s : '';
}
