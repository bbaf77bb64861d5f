/* What the staff pages (dashboard, solver workspace, explorer) share: the
   staff token (sessionStorage "sb_token", gone with the tab), REST calls
   with it, an element builder, and the login and logout controls (#login
   with #email and #password, #login-err, #logout). Loaded before each
   page's own script. */
var Staff = (function () {
  "use strict";
  var KEY = "sb_token";
  var $ = function (id) { return document.getElementById(id); };

  function token() { return sessionStorage.getItem(KEY); }
  function forget() { sessionStorage.removeItem(KEY); }
  function headers() {
    var h = { "content-type": "application/json" };
    var t = token();
    if (t) h.authorization = "Bearer " + t;
    return h;
  }
  function el(tag, attrs, text) {
    var e = document.createElement(tag);
    for (var k in attrs || {}) e.setAttribute(k, attrs[k]);
    if (text != null) e.textContent = text;
    return e;
  }
  /* The answer's JSON; a refusal throws an Error with the server's message,
     its code, its per-field problems and the HTTP status. */
  function api(method, path, body) {
    return fetch(path, { method: method, headers: headers(), body: body ? JSON.stringify(body) : undefined }).then(function (r) {
      if (r.status === 204) return {};
      return r.json().catch(function () { return {}; }).then(function (j) {
        if (!r.ok) {
          var e = new Error(j.message || "The server answered " + r.status + ".");
          e.code = j.error; e.fields = j.fields; e.status = r.status;
          throw e;
        }
        return j;
      });
    });
  }
  /* Wires the login form and the logout button: `start` runs once a token
     is kept (after a login, or at once when the tab already holds one). */
  function login(start) {
    $("login").addEventListener("submit", function (ev) {
      ev.preventDefault();
      $("login-err").textContent = "";
      api("POST", "/api/auth/login", { email: $("email").value, password: $("password").value })
        .then(function (r) { sessionStorage.setItem(KEY, r.token); start(); })
        .catch(function (e) { $("login-err").textContent = e.message; });
    });
    $("logout").addEventListener("click", function () {
      api("POST", "/api/auth/logout").catch(function () {}).then(function () {
        forget(); location.hash = ""; location.reload();
      });
    });
    if (token()) start();
  }
  return { token: token, forget: forget, headers: headers, el: el, api: api, login: login };
})();
