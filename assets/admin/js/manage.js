// Manage Office 365: registration, manifest download, settings, usage.
import { get, put, download, showErrors, clearErrors, status, APIError } from './api.js';

const policies = [['server_wins', 'Server wins'], ['client_wins', 'Office 365 wins'], ['user_selected', 'User selects']];

// The settings form, by JSON path. min/max mirror the server's ranges; the
// server remains the judge and its field errors are shown inline.
const groups = [
  ['Conflict resolution', [
    { path: 'conflictPolicy', label: 'Default conflict resolution', type: 'select', options: policies },
    { path: 'allowUserOverride', label: 'Allow User to Override Default Conflict Resolution', type: 'bool' },
  ]],
  ['Recent and Favorites', [
    { path: 'recentDays', label: 'Recent days', type: 'int', min: 1, max: 365 },
    { path: 'batchSize', label: 'Batch size', type: 'int', min: 1, max: 100 },
  ]],
  ...['contacts', 'appointments', 'tasks'].map((t) => [`Synchronization: ${t}`, [
    { path: `${t}.enabled`, label: 'Enabled', type: 'bool' },
    { path: `${t}.createNew`, label: 'Create new records', type: 'bool' },
    { path: `${t}.deleteOld`, label: 'Delete old records', type: 'bool' },
    { path: `${t}.upperLimit`, label: 'Upper limit (0 = none)', type: 'int', min: 0, max: 100000 },
  ]]),
  ['Synchronization', [
    { path: 'syncPrivateAppointments', label: 'Sync private appointments', type: 'bool' },
    { path: 'syncPrivateTasks', label: 'Sync private tasks', type: 'bool' },
    { path: 'categoryName', label: 'Category name', type: 'text' },
    { path: 'appointmentWindowPastDays', label: 'Appointment window: days in the past', type: 'int', min: 0, max: 365 },
    { path: 'appointmentWindowFutureDays', label: 'Appointment window: days in the future', type: 'int', min: 1, max: 730 },
    { path: 'standardSyncMinutes', label: 'Standard sync frequency (minutes)', type: 'int', min: 15, max: 1440 },
    { path: 'instantSyncMinutes', label: 'Instant sync frequency (minutes)', type: 'int', min: 1, max: 60 },
    { path: 'deleteBrakePercent', label: 'Deletion safety brake (% of items)', type: 'int', min: 1, max: 100 },
    { path: 'deleteBrakeMinimum', label: 'Deletion safety brake (minimum items)', type: 'int', min: 0, max: 100000 },
  ]],
  ['Tracking and sharing', [
    { path: 'clientUsageTracking', label: 'Client Usage Tracking', type: 'bool' },
    { path: 'synchronizationTracking', label: 'Synchronization Tracking', type: 'bool' },
    { path: 'migrationEnabled', label: 'Migration Enabled', type: 'bool' },
    { path: 'advancedSharingMode', label: 'Advanced sharing mode', type: 'bool' },
    { path: 'allowInviteesToShare', label: 'Allow invitees to share appointments', type: 'bool' },
  ]],
];

const fields = groups.flatMap(([, fs]) => fs);

function el(tag, attrs = {}, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k === 'text') e.textContent = v; else e.setAttribute(k, v);
  }
  e.append(...children);
  return e;
}

function buildForm() {
  const root = document.getElementById('settings-fields');
  root.replaceChildren();
  for (const [title, fs] of groups) {
    const set = el('fieldset', {}, el('legend', { text: title }));
    const grid = el('div', { class: 'grid' });
    for (const f of fs) {
      let input;
      if (f.type === 'select') {
        input = el('select', { name: f.path, id: 'f-' + f.path });
        for (const [v, l] of f.options) input.append(el('option', { value: v, text: l }));
      } else if (f.type === 'bool') {
        input = el('input', { type: 'checkbox', name: f.path, id: 'f-' + f.path });
      } else if (f.type === 'int') {
        input = el('input', { type: 'number', name: f.path, id: 'f-' + f.path, min: f.min, max: f.max, step: 1 });
      } else {
        input = el('input', { type: 'text', name: f.path, id: 'f-' + f.path, maxlength: 255 });
      }
      const label = f.type === 'bool'
        ? el('label', { class: 'inline', for: 'f-' + f.path }, input, f.label)
        : el('label', { for: 'f-' + f.path }, f.label + ' ', input);
      grid.append(el('div', {}, label, el('p', { class: 'error', 'data-error-for': f.path })));
    }
    set.append(grid);
    root.append(set);
  }
}

function getPath(o, p) { return p.split('.').reduce((a, k) => (a == null ? a : a[k]), o); }
function setPath(o, p, v) {
  const ks = p.split('.');
  let cur = o;
  for (const k of ks.slice(0, -1)) cur = cur[k] ??= {};
  cur[ks[ks.length - 1]] = v;
}

function fill(settings) {
  const form = document.getElementById('settings-form');
  for (const f of fields) {
    const input = form.elements[f.path];
    const v = getPath(settings, f.path);
    if (f.type === 'bool') input.checked = !!v; else input.value = v ?? '';
  }
}

function read() {
  const form = document.getElementById('settings-form');
  const out = {};
  for (const f of fields) {
    const input = form.elements[f.path];
    let v;
    if (f.type === 'bool') v = input.checked;
    else if (f.type === 'int') v = input.value.trim() === '' || !/^-?\d+$/.test(input.value.trim()) ? input.value : Number(input.value);
    else v = input.value;
    setPath(out, f.path, v);
  }
  return out;
}

async function loadRegistration() {
  const form = document.getElementById('registration-form');
  const note = document.getElementById('registration-note');
  try {
    const r = await get('/admin/registration');
    const reg = r.registration || r;
    form.applicationId.value = reg.applicationId || '';
    form.name.value = reg.name || '';
    const parts = [];
    if (reg.applicationKeySet) parts.push('An application key is stored.');
    if (reg.redirectUri) parts.push(`Redirect URI to register: ${reg.redirectUri}`);
    note.textContent = parts.join(' ');
  } catch (e) {
    note.textContent = e instanceof APIError && e.status === 404 ? 'No registration yet.' : e.message;
  }
}

async function saveManifest(path, name) {
  const errEl = document.getElementById('manifest-error');
  const warnEl = document.getElementById('manifest-warning');
  errEl.textContent = '';
  warnEl.textContent = '';
  try {
    const resp = await download(path, name);
    warnEl.textContent = resp.headers.get('X-SalesBridge-Warning') || '';
    status(`Downloaded ${name}.`);
  } catch (e) {
    const missing = Object.entries(e.fields || {}).map(([k, v]) => `${k}: ${v}`).join('; ');
    errEl.textContent = missing ? `${e.message} (${missing})` : e.message;
  }
}

async function showUsage() {
  const errEl = document.getElementById('usage-error');
  errEl.textContent = '';
  const q = new URLSearchParams();
  const from = document.getElementById('usage-from').value;
  const to = document.getElementById('usage-to').value;
  if (from) q.set('from', from);
  if (to) q.set('to', to);
  try {
    const r = await get('/admin/usage?' + q);
    const body = document.querySelector('#usage-table tbody');
    body.replaceChildren(...r.days.map((d) => el('tr', {},
      el('td', { text: d.day }), el('td', { text: String(d.total) }),
      el('td', { text: Object.entries(d.kinds).map(([k, n]) => `${k}: ${n}`).join(', ') }))));
    if (!r.days.length) body.append(el('tr', {}, el('td', { colspan: 3, text: 'No usage recorded in this range.' })));
  } catch (e) {
    errEl.textContent = Object.values(e.fields || {}).join('; ') || e.message;
  }
}

export function initManage() {
  buildForm();
  document.getElementById('settings-form').addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const form = ev.target;
    clearErrors(form);
    try {
      const r = await put('/admin/settings', read());
      fill(r.settings);
      const n = (r.changes || []).length;
      status(n ? `Settings saved (${n} change${n === 1 ? '' : 's'}).` : 'Settings saved (no changes).');
    } catch (e) {
      showErrors(form, e);
      status(e.message, true);
    }
  });
  document.getElementById('registration-form').addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const f = ev.target;
    const body = { applicationId: f.applicationId.value.trim(), name: f.name.value.trim() };
    if (f.applicationKey.value) body.applicationKey = f.applicationKey.value;
    try {
      await put('/admin/registration', body);
      f.applicationKey.value = '';
      clearErrors(f);
      status('Registration saved.');
      await loadRegistration();
    } catch (e) {
      showErrors(f, e);
      status(e.message, true);
    }
  });
  document.getElementById('download-manifest').addEventListener('click', () => saveManifest('/admin/manifest', 'manifest.xml'));
  document.getElementById('download-manifest-json').addEventListener('click', () => saveManifest('/admin/manifest.json', 'manifest.json'));
  document.getElementById('usage-show').addEventListener('click', showUsage);
  document.getElementById('usage-csv').addEventListener('click', async () => {
    const q = new URLSearchParams({ format: 'csv' });
    const from = document.getElementById('usage-from').value;
    const to = document.getElementById('usage-to').value;
    if (from) q.set('from', from);
    if (to) q.set('to', to);
    try { await download('/admin/usage?' + q, 'usage.csv'); } catch (e) {
      document.getElementById('usage-error').textContent = Object.values(e.fields || {}).join('; ') || e.message;
    }
  });
}

export async function showManage() {
  try {
    const r = await get('/admin/settings');
    fill(r.settings);
    document.getElementById('settings-form').dataset.loaded = 'true';
  } catch (e) {
    status(e.message, true);
  }
  loadRegistration();
  showUsage();
}
