/* An invitation (/invite/<token>): the invited person sets a name and a
   password (or logs in to the account the email already has), accepts,
   and lands on the dashboard logged in. The token is read from the
   address once and then removed from it, so it stays out of the history. */
(function () {
  "use strict";
  var $ = function (id) { return document.getElementById(id); };
  var api = Staff.api;
  var KEY = "sb_invite";
  var fromPath = "";
  try { fromPath = decodeURIComponent(location.pathname.replace(/^\/invite\//, "")); } catch (e) { fromPath = ""; }
  if (fromPath && fromPath !== "accept" && fromPath !== location.pathname) {
    sessionStorage.setItem(KEY, fromPath);
    history.replaceState(null, "", "/invite/accept");
  }
  var token = sessionStorage.getItem(KEY) || "";

  function refused(e) {
    $("status").textContent = e.status === 404
      ? "This invitation has expired, was revoked or was already used. Ask the project's admin to invite you again."
      : e.message;
    $("new-account").hidden = true;
    $("existing-account").hidden = true;
  }

  function landed(r) {
    sessionStorage.removeItem(KEY);
    sessionStorage.setItem("sb_token", r.token);
    location.assign("/dashboard");
  }

  function showErrors(form, e) {
    form.querySelectorAll("[data-field]").forEach(function (s) { s.textContent = ""; });
    $("err").textContent = "";
    var fields = e.fields || {};
    var shown = false;
    Object.keys(fields).forEach(function (f) {
      var slot = form.querySelector('[data-field="' + f + '"]');
      if (slot) { slot.textContent = fields[f]; shown = true; }
    });
    if (!shown) $("err").textContent = e.message;
  }

  api("POST", "/api/invitations/lookup", { token: token }).then(function (inv) {
    $("title").textContent = "Join " + inv.project_name;
    $("status").textContent = "You are invited as " + (inv.role === "admin" ? "an admin" : "an agent") + " of " + inv.project_name + ".";
    if (inv.account_exists) {
      $("ex-email").value = inv.email;
      $("existing-account").hidden = false;
      $("ex-password").focus();
    } else {
      $("inv-email").value = inv.email;
      $("inv-name").value = inv.name || "";
      $("new-account").hidden = false;
      $("inv-name").focus();
    }
  }).catch(refused);

  $("new-account").addEventListener("submit", function (ev) {
    ev.preventDefault();
    var form = $("new-account");
    api("POST", "/api/invitations/accept", { token: token, name: $("inv-name").value, password: $("inv-password").value })
      .then(landed)
      .catch(function (e) { if (e.status === 404) refused(e); else showErrors(form, e); });
  });

  $("existing-account").addEventListener("submit", function (ev) {
    ev.preventDefault();
    var form = $("existing-account");
    api("POST", "/api/auth/login", { email: $("ex-email").value, password: $("ex-password").value }).then(function (r) {
      sessionStorage.setItem("sb_token", r.token);
      return api("POST", "/api/invitations/accept", { token: token });
    }).then(landed).catch(function (e) { if (e.status === 404) refused(e); else showErrors(form, e); });
  });
})();
