// The admin pages' one door to the JSON API: bearer token, JSON errors.
export const TOKEN_KEY = 'salesbridge.admin.token';

export function token() { return sessionStorage.getItem(TOKEN_KEY) || ''; }
export function setToken(t) { t ? sessionStorage.setItem(TOKEN_KEY, t) : sessionStorage.removeItem(TOKEN_KEY); }

export class APIError extends Error {
  constructor(status, body) {
    const e = (body && body.error) || {};
    super(e.message || `HTTP ${status}`);
    this.status = status;
    this.code = e.code || '';
    this.fields = e.fields || {};
  }
}

export async function request(method, path, body, { raw = false } = {}) {
  const headers = { Accept: raw ? '*/*' : 'application/json' };
  const t = token();
  if (t) headers.Authorization = 'Bearer ' + t;
  const init = { method, headers };
  if (body !== undefined) {
    headers['Content-Type'] = 'application/json';
    init.body = JSON.stringify(body);
  }
  const resp = await fetch('/api/v1' + path, init);
  if (!resp.ok) {
    let data = null;
    try { data = await resp.json(); } catch { /* not JSON */ }
    const err = new APIError(resp.status, data);
    if (resp.status === 401) window.dispatchEvent(new CustomEvent('signed-out'));
    throw err;
  }
  if (raw) return resp;
  if (resp.status === 204) return null;
  return resp.json();
}

export const get = (p) => request('GET', p);
export const put = (p, b) => request('PUT', p, b);
export const post = (p, b) => request('POST', p, b);

// download fetches a file with the session and saves it under its name.
export async function download(path, fallbackName) {
  const resp = await request('GET', path, undefined, { raw: true });
  const cd = resp.headers.get('Content-Disposition') || '';
  const m = /filename="([^"]+)"/.exec(cd);
  const blob = await resp.blob();
  const a = document.createElement('a');
  a.href = URL.createObjectURL(blob);
  a.download = m ? m[1] : fallbackName;
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(a.href), 10000);
  return resp;
}

// showErrors puts each field error next to its input inside root.
export function showErrors(root, err) {
  clearErrors(root);
  const fields = (err && err.fields) || {};
  let shown = false;
  for (const [name, msg] of Object.entries(fields)) {
    const slot = root.querySelector(`[data-error-for="${CSS.escape(name)}"]`);
    const input = root.querySelector(`[name="${CSS.escape(name)}"]`);
    if (input) input.classList.add('invalid');
    if (slot) { slot.textContent = msg; shown = true; }
  }
  return shown;
}

export function clearErrors(root) {
  root.querySelectorAll('[data-error-for]').forEach((e) => { e.textContent = ''; });
  root.querySelectorAll('.invalid').forEach((e) => e.classList.remove('invalid'));
}

export function status(msg, bad = false) {
  const s = document.getElementById('status');
  s.textContent = msg;
  s.classList.toggle('bad', bad);
}
