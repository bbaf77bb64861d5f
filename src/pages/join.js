/* The customer's page of a billable session (seeds 000, 001): the timer as
   the solver runs it (synced from session_status events), and the chat.
   The join link carries the session's access token. */
(function () {
  "use strict";
  var $ = function (id) { return document.getElementById(id); };
  var id = location.pathname.split("/").pop();
  var token = new URLSearchParams(location.search).get("token");
  var t = { elapsed: 0, running: false, at: Date.now() };
  var seen = {}, refs = 0, backoff = 1000, lastSeq = 0;
  var LABELS = { not_started: "Waiting for your expert to start", active: "In progress", paused: "Paused",
                 completed: "Completed", cancelled: "Cancelled" };

  function api(method, path, body) {
    return fetch(path, { method: method, headers: { "content-type": "application/json", authorization: "Bearer " + token },
      body: body ? JSON.stringify(body) : undefined }).then(function (r) {
      return r.json().then(function (j) { if (!r.ok) throw new Error(j.message || r.statusText); return j; });
    });
  }
  var TIER_NAMES = { quick: "Quick Assist", standard: "Standard Solve", extended: "Deep Dive" };
  function money(c) { return "$" + (c / 100).toFixed(2); }
  // Completed: the total, the payment link and, once, the rating form.
  function completed(total, tier, payUrl, rating) {
    $("done").hidden = false;
    if (total != null) $("total").textContent = money(total);
    if (tier) $("tier-name").textContent = "(" + (TIER_NAMES[tier] || tier) + ")";
    if (payUrl) { $("pay").href = payUrl; $("pay").hidden = false; }
    if (rating) { $("rate").hidden = true; $("thanks").hidden = false; }
  }
  function fromView(v) {
    sync(v.status, v.elapsed_seconds);
    if (v.status === "completed") completed(v.pricing && v.pricing.total_charged, v.tier, v.payment && v.payment.payment_url, v.rating);
  }
  $("rate").addEventListener("submit", function (ev) {
    ev.preventDefault();
    var r = document.querySelector("input[name=stars]:checked");
    if (!r) { $("rate-err").textContent = "Choose a rating from 1 to 5."; return; }
    var body = { rating: Number(r.value) };
    if ($("comment").value.trim()) body.comment = $("comment").value.trim();
    api("POST", "/api/sessions/" + id + "/rating", body)
      .then(function () { $("rate").hidden = true; $("thanks").hidden = false; })
      .catch(function (e) { $("rate-err").textContent = e.message; });
  });
  function pad(n) { return (n < 10 ? "0" : "") + n; }
  function show() {
    var secs = t.elapsed + (t.running ? Math.floor((Date.now() - t.at) / 1000) : 0);
    var h = Math.floor(secs / 3600), m = Math.floor(secs / 60) % 60, s = secs % 60;
    $("timer").textContent = (h ? h + ":" : "") + pad(m) + ":" + pad(s);
  }
  function sync(status, elapsed) {
    t = { elapsed: elapsed || 0, running: status === "active", at: Date.now() };
    $("state").textContent = LABELS[status] || status;
    $("state").setAttribute("data-status", status);
    // A finished session takes no more chat.
    $("send").hidden = status === "completed" || status === "cancelled";
    show();
  }
  setInterval(show, 1000);

  function render(m) {
    if (seen[m.seq]) return; seen[m.seq] = true; if (m.seq > lastSeq) lastSeq = m.seq;
    var d = document.createElement("div");
    d.className = "msg " + m.sender_type; d.textContent = m.content;
    $("log").appendChild(d); $("log").scrollTop = $("log").scrollHeight;
  }

  function connect() {
    // The token goes in the first frame, not the URL: addresses end up in logs.
    var ws = new WebSocket(location.origin.replace(/^http/, "ws") + "/ws");
    function subscribe(after) {
      ws.send(JSON.stringify({ op: "subscribe", ref: "j" + (++refs), channel: "session:" + id, after_seq: after }));
    }
    ws.onopen = function () {
      ws.send(JSON.stringify({ op: "auth", ref: "auth", token: token }));
      backoff = 1000;
      subscribe(lastSeq);
      // Missed status changes while away: read the session again.
      api("GET", "/api/sessions/" + id).then(fromView).catch(function () {});
    };
    ws.onmessage = function (ev) {
      var f = JSON.parse(ev.data);
      // The chat's replay comes in pages: while the server answers more,
      // subscribe again from where the page stopped; then it is live.
      if (f.type === "reply" && f.ok && f.data && f.data.more && f.data.channel === "session:" + id) subscribe(f.data.replayed_to);
      if (f.type !== "event") return;
      if (f.event === "message") render(f.data);
      if (f.event === "session_status") sync(f.data.status, f.data.elapsed_seconds);
      if (f.event === "session_completed") completed(f.data.total_charged, f.data.tier, f.data.payment_url);
      if (f.event === "tier_warning") $("tier").textContent = f.data.level === "exceeded" ? "Past the included time" : "Approaching the included time";
    };
    ws.onclose = function () { setTimeout(connect, backoff); backoff = Math.min(backoff * 2, 30000); };
  }

  $("send").addEventListener("submit", function (ev) {
    ev.preventDefault();
    var text = $("text").value.trim(); if (!text) return;
    $("text").value = ""; $("err").textContent = "";
    api("POST", "/api/sessions/" + id + "/messages", { content: text, client_msg_id: "j-" + Date.now() })
      .then(render).catch(function (e) { $("err").textContent = e.message; });
  });

  api("GET", "/api/sessions/" + id).then(function (v) {
    fromView(v);
    connect();
  }).catch(function (e) { $("state").textContent = "This link does not open a session: " + e.message; });
})();
