// close.html: the end of the connect dialog. It hands the result the server
// rendered into #connect-result to the pane (Office dialog) and closes; in
// an ordinary browser it shows the result.
function result() {
  const el = document.getElementById('connect-result');
  try { return JSON.parse((el && el.textContent) || '{}'); } catch { return {}; }
}

function show(r) {
  const title = document.getElementById('title');
  const text = document.getElementById('connect-message');
  const ok = r.status === 'connected' || r.status === 'ok';
  document.body.dataset.status = ok ? 'ok' : 'error';
  title.textContent = ok ? 'You are connected' : 'Connection failed';
  if (!text.textContent.trim()) {
    text.textContent = ok ? 'You can close this window and return to Outlook.'
      : (r.message || 'The sign-in did not finish. Close this window and try Connect again.');
  }
  if (!ok && r.code) document.getElementById('code').textContent = 'Reason: ' + r.code;
}

function run() {
  const r = result();
  if (!r.status) r.status = 'error';
  show(r);
  const inDialog = typeof Office !== 'undefined' && Office.context && Office.context.ui && typeof Office.context.ui.messageParent === 'function';
  if (inDialog) {
    try { Office.context.ui.messageParent(JSON.stringify(r)); } catch { /* opened outside a dialog */ }
  }
}

if (typeof Office !== 'undefined' && Office.onReady) {
  let done = false;
  const once = () => { if (!done) { done = true; run(); } };
  Office.onReady(once);
  setTimeout(once, 1500); // outside Office, onReady may never fire
} else if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', run);
else run();
