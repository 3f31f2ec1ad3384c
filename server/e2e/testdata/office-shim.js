// A test-only stand-in for Office.js: just the calls the SalesBridge pages
// make. The test prepends `window.__SHIM_CONFIG = {...}` (the item, the
// user, the theme). window.__shim exposes what the pages did.
(function () {
  var cfg = window.__SHIM_CONFIG || {};
  var opener = null;
  try { if (window.opener && window.opener.__shimDialog) opener = window.opener; } catch (e) { opener = null; }
  var shim = window.__shim = { notifications: [], completed: 0, handlers: {}, roaming: {}, dialogs: [] };

  function ok(value) { return { status: 'succeeded', value: value }; }
  function addr(a) { return a ? { emailAddress: a.email, displayName: a.name } : null; }

  function makeItem(it) {
    if (!it) return null;
    var isAppt = it.kind === 'appointment';
    var item = {
      itemType: isAppt ? 'appointment' : 'message',
      itemId: it.itemId || 'AAMkAGI2TG93AAA=',
      subject: it.subject || '',
      dateTimeCreated: new Date(it.sentAt || Date.now()),
      body: { getAsync: function (kind, opts, cb) { cb = cb || opts; setTimeout(function () { cb(ok(kind === 'text' ? (it.body || '') : '<p>' + (it.body || '') + '</p>')); }, 0); } },
      notificationMessages: {
        replaceAsync: function (key, msg, opts, cb) { cb = cb || opts; shim.notifications.push({ key: key, type: msg.type, message: msg.message }); if (typeof cb === 'function') setTimeout(function () { cb(ok()); }, 0); },
        addAsync: function (key, msg, opts, cb) { this.replaceAsync(key, msg, opts, cb); },
      },
    };
    if (isAppt) {
      item.organizer = addr(it.organizer);
      item.requiredAttendees = (it.attendees || []).map(addr);
      item.optionalAttendees = [];
      item.start = new Date(it.start); item.end = new Date(it.end);
      item.location = it.location || '';
      item.iCalUId = it.iCalUId || '';
    } else {
      item.from = addr(it.from); item.sender = addr(it.from);
      item.to = (it.to || []).map(addr); item.cc = (it.cc || []).map(addr);
      item.internetMessageId = it.internetMessageId || '';
      item.conversationId = it.conversationId || '';
    }
    return item;
  }

  var mailbox = {
    item: makeItem(cfg.item),
    userProfile: { emailAddress: (cfg.user && cfg.user.email) || 'jordan.smith@contoso.example', displayName: (cfg.user && cfg.user.name) || 'Jordan Smith' },
    convertToRestId: function (id) { return 'rest-' + String(id).replace(/[\/+]/g, '-'); },
    addHandlerAsync: function (type, handler, opts, cb) { cb = cb || opts; (shim.handlers[type] = shim.handlers[type] || []).push(handler); if (typeof cb === 'function') cb(ok()); },
  };

  var Office = window.Office = {
    HostType: { Outlook: 'Outlook' },
    EventType: { ItemChanged: 'olkItemSelectedChanged', DialogMessageReceived: 'dialogMessageReceived', DialogEventReceived: 'dialogEventReceived' },
    CoercionType: { Html: 'html', Text: 'text' },
    MailboxEnums: {
      ItemType: { Message: 'message', Appointment: 'appointment' },
      RestVersion: { v2_0: 'v2.0' },
      ItemNotificationMessageType: { InformationalMessage: 'informationalMessage', ErrorMessage: 'errorMessage', ProgressIndicator: 'progressIndicator' },
    },
    actions: { associate: function (name, fn) { shim.actions = shim.actions || {}; shim.actions[name] = fn; } },
    context: {
      displayLanguage: cfg.language || 'en-US',
      officeTheme: cfg.theme || { bodyBackgroundColor: '#ffffff', bodyForegroundColor: '#242424', controlBackgroundColor: '#fafafa', controlForegroundColor: '#616161' },
      mailbox: mailbox,
      roamingSettings: {
        get: function (k) { return shim.roaming[k]; },
        set: function (k, v) { shim.roaming[k] = v; },
        remove: function (k) { delete shim.roaming[k]; },
        saveAsync: function (cb) { if (cb) cb(ok()); },
      },
      ui: {
        // the dialog is a separate window, as in Outlook; the Office shim
        // of the page it ends on forwards messageParent to its opener
        displayDialogAsync: function (url, opts, cb) {
          var handlers = {};
          var win = window.open(url, 'office-dialog', 'width=420,height=640');
          var dialog = {
            addEventHandler: function (type, h) { handlers[type] = h; },
            close: function () { try { win.close(); } catch (e) { /* already closed */ } },
            messageChild: function () {},
          };
          window.__shimDialog = function (message) { var h = handlers[Office.EventType.DialogMessageReceived]; if (h) setTimeout(function () { h({ message: message, origin: location.origin }); }, 0); };
          shim.dialogs.push(url);
          setTimeout(function () { cb(win ? ok(dialog) : { status: 'failed', error: { code: 12009, message: 'popup blocked' } }); }, 0);
        },
        messageParent: function (m) { if (opener) opener.__shimDialog(m); else shim.parentMessages = (shim.parentMessages || []).concat([m]); },
      },
    },
    onReady: function (cb) {
      var info = { host: 'Outlook', platform: 'PC' };
      return new Promise(function (resolve) {
        setTimeout(function () { if (cb) cb(info); resolve(info); }, 0);
      });
    },
  };

  // the test switches the selected item of a pinned pane
  shim.changeItem = function (it) {
    mailbox.item = makeItem(it);
    (shim.handlers[Office.EventType.ItemChanged] || []).forEach(function (h) { h({ type: Office.EventType.ItemChanged }); });
  };
  shim.event = function () { return { completed: function () { shim.completed++; } }; };
})();
