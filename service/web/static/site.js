/* Bantin public pages: the little a page does better with script, nothing it needs it for.
   - The category menu folds behind a button on a narrow screen (WAI-ARIA disclosure
     pattern: a real <button>, aria-expanded, Escape closes); without script every link shows.
   - "Chép địa chỉ" buttons copy a feed's address; without script the address is plain text
     to select, and the buttons stay hidden.
   - "Nhận thông báo" (Web Push, decision 0041): registers /sw.js, asks the browser's
     permission, subscribes with the site's VAPID key and POSTs the subscription with a
     CSRF token fetched from /push/token; "Tắt thông báo" undoes it. Without script, or in
     a browser without the Push API, the buttons stay hidden and a note says so. */
(function () {
  "use strict";

  var narrow = window.matchMedia("(max-width: 40rem)");

  function setUpMenu(nav) {
    var button = nav.querySelector(".menu__toggle");
    if (!button) return;
    function show(open) {
      button.setAttribute("aria-expanded", open ? "true" : "false");
      nav.classList.toggle("menu--open", open);
    }
    nav.classList.add("menu--enhanced");
    button.hidden = false;
    show(false);
    button.addEventListener("click", function () {
      show(button.getAttribute("aria-expanded") !== "true");
    });
    nav.addEventListener("keydown", function (event) {
      if (event.key === "Escape" && narrow.matches && button.getAttribute("aria-expanded") === "true") {
        show(false);
        button.focus();
      }
    });
  }

  function setUpCopying() {
    var status = document.querySelector("[data-copied]");
    var buttons = document.querySelectorAll("[data-copy]");
    if (!status || !navigator.clipboard || !window.isSecureContext) return;
    Array.prototype.forEach.call(buttons, function (button) {
      button.hidden = false;
      button.addEventListener("click", function () {
        navigator.clipboard.writeText(button.getAttribute("data-copy")).then(
          function () { status.textContent = status.getAttribute("data-copied"); },
          function () { status.textContent = status.getAttribute("data-copy-failed"); }
        );
      });
    });
  }

  // The VAPID public key (base64url) as the bytes PushManager.subscribe wants.
  function keyBytes(base64url) {
    var padded = (base64url + "===".slice((base64url.length + 3) % 4)).replace(/-/g, "+").replace(/_/g, "/");
    var raw = window.atob(padded);
    var bytes = new Uint8Array(raw.length);
    for (var i = 0; i < raw.length; i += 1) bytes[i] = raw.charCodeAt(i);
    return bytes;
  }

  function postJson(url, document) {
    return fetch("/push/token", { credentials: "same-origin", cache: "no-store" })
      .then(function (answer) {
        if (!answer.ok) throw new Error("token");
        return answer.json();
      })
      .then(function (token) {
        document.csrf_token = token.csrf_token;
        return fetch(url, {
          method: "POST",
          credentials: "same-origin",
          headers: { "Content-Type": "application/json" },
          body: JSON.stringify(document)
        });
      })
      .then(function (answer) {
        return answer.json().then(function (body) {
          if (!answer.ok) throw new Error(body.message || "refused");
          return body;
        });
      });
  }

  function setUpPush(panel) {
    var subscribe = panel.querySelector("[data-push-subscribe]");
    var unsubscribe = panel.querySelector("[data-push-unsubscribe]");
    var status = panel.querySelector("[data-push-status]");
    var lang = document.documentElement.lang === "en" ? "en" : "vi";
    function say(text) { status.textContent = text; }
    if (!("serviceWorker" in navigator) || !("PushManager" in window) || !("Notification" in window) ||
        !window.isSecureContext) {
      say(panel.getAttribute("data-words-unsupported"));
      return;
    }
    function show(subscribed) {
      subscribe.hidden = subscribed;
      unsubscribe.hidden = !subscribed;
    }
    var registration = navigator.serviceWorker.register("/sw.js", { scope: "/" });
    registration.then(function (worker) { return worker.pushManager.getSubscription(); })
      .then(function (existing) { show(Boolean(existing)); }, function () { show(false); });

    subscribe.addEventListener("click", function () {
      var chosen = Array.prototype.map.call(panel.querySelectorAll("input[name=push-category]:checked"),
        function (box) { return box.value; });
      subscribe.disabled = true;
      say(panel.getAttribute("data-words-working"));
      Notification.requestPermission()
        .then(function (permission) {
          if (permission !== "granted") throw new Error(panel.getAttribute("data-words-denied"));
          return registration;
        })
        .then(function () { return navigator.serviceWorker.ready; })
        .then(function (worker) {
          return worker.pushManager.getSubscription().then(function (existing) {
            return existing || worker.pushManager.subscribe({
              userVisibleOnly: true,
              applicationServerKey: keyBytes(panel.getAttribute("data-push-key"))
            });
          });
        })
        .then(function (subscription) {
          return postJson("/push/subscriptions", { subscription: subscription.toJSON(), categories: chosen, lang: lang });
        })
        .then(function (answer) { say(answer.message); show(true); },
              function (error) { say(error.message || panel.getAttribute("data-words-failed")); })
        .then(function () { subscribe.disabled = false; });
    });

    unsubscribe.addEventListener("click", function () {
      unsubscribe.disabled = true;
      navigator.serviceWorker.ready
        .then(function (worker) { return worker.pushManager.getSubscription(); })
        .then(function (subscription) {
          if (!subscription) return { message: "" };
          var keys = subscription.toJSON().keys || {};
          var endpoint = subscription.endpoint;
          return subscription.unsubscribe().then(function () {
            return postJson("/push/unsubscribe", { endpoint: endpoint, auth: keys.auth || "", lang: lang });
          });
        })
        .then(function (answer) { say(answer.message); show(false); },
              function (error) { say(error.message || panel.getAttribute("data-words-failed")); })
        .then(function () { unsubscribe.disabled = false; });
    });
  }

  Array.prototype.forEach.call(document.querySelectorAll("[data-menu]"), setUpMenu);
  setUpCopying();
  Array.prototype.forEach.call(document.querySelectorAll("[data-push]"), setUpPush);
})();
