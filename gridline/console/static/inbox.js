// Gridline staff inbox: registers the service worker (so the inbox installs as an app) and offers
// web push. Every action is a plain form POST with the CSRF token: the inbox works without this script.
(function () {
  "use strict";
  var body = document.body;
  var csrf = body.getAttribute("data-csrf") || "";
  var vapidKey = body.getAttribute("data-vapid-key") || "";
  var box = document.querySelector(".push-box");
  var button = document.getElementById("push-enable");
  var status = document.getElementById("push-status");

  function say(key) {
    if (status) status.textContent = body.getAttribute("data-t-" + key) || "";
  }

  function keyBytes(base64url) {
    var padded = (base64url + "===".slice((base64url.length + 3) % 4)).replace(/-/g, "+").replace(/_/g, "/");
    var raw = window.atob(padded);
    var out = new Uint8Array(raw.length);
    for (var i = 0; i < raw.length; i++) out[i] = raw.charCodeAt(i);
    return out;
  }

  function send(path, subscription) {
    return fetch(path, {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRF-Token": csrf },
      body: JSON.stringify(subscription.toJSON())
    }).then(function (response) {
      if (!response.ok) throw new Error(String(response.status));
    });
  }

  // A page left open stays current: reload every minute while visible, unless the person is typing
  // a note or choosing whom to hand a case to.
  if (document.querySelector(".inbox-card, .empty")) {
    window.setInterval(function () {
      var busy = document.querySelector(".inbox-more[open]") || (document.activeElement &&
        /^(INPUT|TEXTAREA|SELECT)$/.test(document.activeElement.tagName));
      if (document.visibilityState === "visible" && !busy) window.location.replace("/console/inbox");
    }, 60000);
  }

  if (!("serviceWorker" in navigator)) return;
  navigator.serviceWorker.register("/console/inbox/sw.js", { scope: "/console/inbox" }).then(function (registration) {
    if (!box || !button || !vapidKey || !("PushManager" in window)) return;
    box.hidden = false;
    registration.pushManager.getSubscription().then(function (existing) {
      if (existing) {
        say("push-enabled");
        send("/console/inbox/push/subscribe", existing).catch(function () { /* kept for the next visit */ });
      }
    });
    button.addEventListener("click", function () {
      Notification.requestPermission().then(function (permission) {
        if (permission !== "granted") { say("push-denied"); return; }
        return registration.pushManager.subscribe({ userVisibleOnly: true, applicationServerKey: keyBytes(vapidKey) })
          .then(function (subscription) { return send("/console/inbox/push/subscribe", subscription); })
          .then(function () { say("push-enabled"); });
      }).catch(function () { say("push-failed"); });
    });
  }).catch(function () { say("push-unsupported"); });
})();
