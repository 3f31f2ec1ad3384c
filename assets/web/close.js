// Hands the connect result embedded by the server to the task pane through
// Office.context.ui.messageParent; opened outside Office, the page shows
// the message itself.
(function () {
  "use strict";
  function result() {
    var el = document.getElementById("connect-result");
    try { return JSON.parse(el ? el.textContent : "{}"); } catch (e) { return { status: "error", code: "internal", message: "Unreadable result." }; }
  }
  function send() {
    var r = result();
    if (typeof Office !== "undefined" && Office.context && Office.context.ui && Office.context.ui.messageParent) {
      Office.context.ui.messageParent(JSON.stringify(r));
    }
  }
  if (typeof Office !== "undefined" && Office.onReady) {
    Office.onReady(send);
  }
})();
