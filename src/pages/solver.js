/* The solver workspace (seeds 000, 001): the ticket queue with claim, the
   session page (timer, chat and notes; customer info, communication, join
   link, completion with a tier) and My Sessions. Public contract only:
   REST plus one WebSocket for the session channel. Routes live in the
   address's hash: #/queue, #/sessions, #/session/<id>. */
(function () {
  "use strict";
  var el = Staff.el, api = Staff.api;
  var $ = function (id) { return document.getElementById(id); };
  // Seed 000's tiers: what the completion modal shows before the server
  // prices the session (the server's answer is what is charged).
  var TIERS = [
    { id: "quick", name: "Quick Assist", price: 6900, included: 20 * 60, rate: 300 },
    { id: "standard", name: "Standard Solve", price: 12900, included: 45 * 60, rate: 250 },
    { id: "extended", name: "Deep Dive", price: 21900, included: 90 * 60, rate: 200 }
  ];
  var STATUS = { not_started: "Not started", active: "Active", paused: "Paused", completed: "Completed", cancelled: "Cancelled" };
  var s = { me: null, project: null, ws: null, refs: 0, backoff: 1000,
            sess: null, t: { elapsed: 0, running: false, at: 0 }, seen: {}, lastSeq: 0, cursor: null,
            notes: { saved: "", timer: null, busy: false }, typingTimer: null, typing: false };



  function money(cents) { return "$" + (cents / 100).toFixed(2); }
  function pad(n) { return (n < 10 ? "0" : "") + n; }
  function clock(secs) {
    var h = Math.floor(secs / 3600), m = Math.floor(secs / 60) % 60, x = secs % 60;
    return (h ? h + ":" + pad(m) : pad(m)) + ":" + pad(x);
  }
  function ago(secs) { return secs < 60 ? "just now" : secs < 3600 ? Math.floor(secs / 60) + " min" : Math.floor(secs / 3600) + " h " + Math.floor(secs / 60) % 60 + " min"; }
  function fail(box) { return function (e) { $(box).textContent = e.message; }; }

  // ------------------------------------------------------------ login
  function start() {
    api("GET", "/api/auth/me").then(function (r) {
      s.me = r.user;
      if (!r.projects.length) throw new Error("You are not a member of any project.");
      var pick = $("project"), saved = localStorage.getItem("sb_solver_project");
      r.projects.forEach(function (p) { pick.appendChild(el("option", { value: p.id }, p.name)); });
      s.project = r.projects.filter(function (p) { return p.id === saved; })[0] || r.projects[0];
      pick.value = s.project.id;
      $("project-wrap").hidden = r.projects.length < 2;
      $("login").hidden = true; $("nav").hidden = false; $("logout").hidden = false;
      $("me").textContent = s.me.name;
      connect(); route();
    }).catch(function (e) { Staff.forget(); $("login-err").textContent = e.message; });
  }
  $("project").addEventListener("change", function () {
    s.project = { id: $("project").value };
    localStorage.setItem("sb_solver_project", s.project.id);
    loadQueue();
  });

  // ------------------------------------------------------------ routes
  function route() {
    if (!s.me) return;
    var parts = location.hash.replace(/^#\/?/, "").split("/");
    var view = parts[0] === "session" && parts[1] ? "session" : parts[0] === "sessions" ? "sessions" : "queue";
    ["queue", "sessions", "session"].forEach(function (v) { $(v).hidden = v !== view; });
    Array.prototype.forEach.call(document.querySelectorAll("#nav a"), function (a) {
      if (a.getAttribute("data-view") === view) a.setAttribute("aria-current", "page"); else a.removeAttribute("aria-current");
    });
    if (view !== "session") leaveSession();
    if (view === "queue") { loadQueue(); loadStats(); }
    if (view === "sessions") loadSessions(true);
    if (view === "session") openSession(parts[1]);
  }
  window.addEventListener("hashchange", route);

  // ------------------------------------------------------------ queue
  var queueTimer = null;
  function loadQueue() {
    clearTimeout(queueTimer);
    if ($("queue").hidden) return;
    api("GET", "/api/tickets?project_id=" + s.project.id + "&status=open").then(function (r) {
      $("queue-err").textContent = "";
      var ul = $("tickets"); ul.textContent = "";
      if (!r.items.length) ul.appendChild(el("li", { "class": "panel muted" }, "No open tickets. New ones appear here on their own."));
      r.items.forEach(function (t) {
        var li = el("li", { "class": "panel ticket" });
        var head = el("p");
        head.appendChild(el("strong", null, t.customer_name));
        head.appendChild(document.createTextNode(" "));
        head.appendChild(el("span", { "class": "badge " + t.urgency }, t.urgency));
        li.appendChild(head);
        li.appendChild(el("p", null, t.description));
        li.appendChild(el("p", { "class": "muted" }, "Waiting " + ago(t.waiting_seconds)));
        var b = el("button", { type: "button", "class": "button", "aria-label": "Claim the ticket of " + t.customer_name }, "Claim");
        b.addEventListener("click", function () { claim(t, b); });
        li.appendChild(b);
        ul.appendChild(li);
      });
    }).catch(fail("queue-err")).then(function () { queueTimer = setTimeout(loadQueue, 10000); });
  }
  function claim(t, button) {
    button.disabled = true;
    $("queue-err").textContent = "";
    api("POST", "/api/tickets/" + t.id + "/claim").then(function () {
      return api("POST", "/api/sessions", { ticket_id: t.id });
    }).then(function (sess) {
      // The access token is shown once, at creation: keep the link for
      // this browser so the header can offer it again.
      localStorage.setItem("sb_join_" + sess.id, sess.join_url);
      location.hash = "#/session/" + sess.id;
    }).catch(function (e) { button.disabled = false; $("queue-err").textContent = e.message; loadQueue(); });
  }
  function loadStats() {
    api("GET", "/api/solvers/me/stats").then(function (st) {
      var box = $("stats"); box.textContent = "";
      [["Sessions", st.total_sessions], ["Earnings", money(st.total_earnings || 0)],
       ["Average rating", st.average_rating == null ? "–" : Number(st.average_rating).toFixed(1) + " / 5"]].forEach(function (r) {
        var d = el("div", null, r[0]); d.appendChild(el("strong", null, String(r[1]))); box.appendChild(d);
      });
    }).catch(function () {});
  }

  // ------------------------------------------------------------ my sessions
  $("filter").addEventListener("change", function () { loadSessions(true); });
  $("more").addEventListener("click", function () { loadSessions(false); });
  function loadSessions(fresh) {
    if (fresh) { s.cursor = null; $("session-list").textContent = ""; }
    var q = "/api/sessions?limit=20" + ($("filter").value ? "&status=" + $("filter").value : "") + (s.cursor ? "&cursor=" + encodeURIComponent(s.cursor) : "");
    api("GET", q).then(function (r) {
      $("sessions-err").textContent = "";
      var ul = $("session-list");
      if (fresh && !r.items.length) {
        ul.appendChild(el("li", { "class": "panel muted" }, $("filter").value
          ? "No sessions match this status." : "No sessions yet. Claim a ticket from the queue to start one."));
      }
      r.items.forEach(function (x) {
        var li = el("li", { "class": "panel scard" });
        var head = el("p");
        head.appendChild(el("strong", null, x.customer_name));
        head.appendChild(document.createTextNode(" "));
        head.appendChild(el("span", { "class": "badge " + x.status }, STATUS[x.status] || x.status));
        li.appendChild(head);
        li.appendChild(el("p", null, (x.description || "").slice(0, 140)));
        var when = x.ended_at || x.started_at || x.created_at;
        li.appendChild(el("p", { "class": "muted" }, [x.tier_label, clock(x.duration_seconds),
          x.earnings != null ? "earned " + money(x.earnings) : null, x.rating ? x.rating + "★" : null,
          new Date(when).toLocaleString()].filter(Boolean).join(" · ")));
        var open = /^(completed|cancelled)$/.test(x.status) ? "View" : "Resume";
        var a = el("a", { "class": "button", href: "#/session/" + x.id, "aria-label": open + " the session with " + x.customer_name }, open);
        li.appendChild(a);
        ul.appendChild(li);
      });
      s.cursor = r.next_cursor;
      $("more").hidden = !r.next_cursor;
    }).catch(fail("sessions-err"));
  }

  // ------------------------------------------------------------ live
  function connect() {
    // The token goes in the first frame, not the URL: addresses end up in logs.
    var ws = new WebSocket(location.origin.replace(/^http/, "ws") + "/ws");
    s.ws = ws;
    ws.onopen = function () {
      ws.send(JSON.stringify({ op: "auth", ref: "auth", token: Staff.token() }));
      s.backoff = 1000; if (s.sess) subscribe();
    };
    ws.onmessage = function (ev) {
      var f = JSON.parse(ev.data);
      // The chat's replay comes in pages: while the server answers more,
      // subscribe again from where the page stopped; then it is live.
      if (f.type === "reply" && f.ok && f.data && f.data.more && s.sess && f.data.channel === "session:" + s.sess.id) subscribe(f.data.replayed_to);
      if (f.type !== "event" || !s.sess || f.channel !== "session:" + s.sess.id) return;
      var d = f.data || {};
      if (f.event === "message") render(d);
      else if (f.event === "session_status") { s.sess.status = d.status; s.sess.tier_limit_seconds = d.tier_limit_seconds; sync(d.elapsed_seconds, d.timer_running); paint(); }
      else if (f.event === "typing") typingShown(d);
      else if (f.event === "call_state") $("comms-state").textContent = "Call: " + d.state;
      else if (f.event === "screen_share_answer") $("comms-state").textContent = d.accepted ? "Screen share accepted" : "Screen share declined";
      else if (f.event === "sms_sent") $("comms-state").textContent = "SMS sent";
      else if (f.event === "tier_warning") $("timer-state").textContent = d.level === "exceeded" ? "Past the tier's included time" : "Approaching the tier's included time";
    };
    ws.onclose = function () { s.ws = null; setTimeout(connect, s.backoff); s.backoff = Math.min(s.backoff * 2, 30000); };
  }
  function send(body) {
    if (!s.ws || s.ws.readyState !== 1) return;
    body.ref = "s" + (++s.refs);
    s.ws.send(JSON.stringify(body));
  }
  function subscribe(after) { send({ op: "subscribe", channel: "session:" + s.sess.id, after_seq: after == null ? s.lastSeq : after }); }
  function typingShown(d) {
    if (d.user_type !== "customer") return;
    $("typing").textContent = d.is_typing ? "Customer is typing…" : "";
  }

  // ------------------------------------------------------------ session
  var ticker = null, refetch = null, syncer = null;
  function leaveSession() {
    if (!s.sess) return;
    flushNotes();
    send({ op: "unsubscribe", channel: "session:" + s.sess.id });
    s.sess = null;
    clearInterval(ticker); clearInterval(refetch); clearInterval(syncer); clearInterval(s.notes.every);
  }
  function openSession(id) {
    if (s.sess && s.sess.id === id) return;
    leaveSession();
    s.seen = {}; s.lastSeq = 0;
    $("log").textContent = ""; $("session-err").textContent = ""; $("save-state").textContent = "";
    $("comms-state").textContent = ""; $("timer-state").textContent = "";
    api("GET", "/api/sessions/" + id).then(function (v) {
      s.sess = v;
      $("notes").value = v.notes || ""; s.notes.saved = v.notes || "";
      if (v.notes_saved_at) $("save-state").textContent = "Saved";
      sync(v.elapsed_seconds, v.timer_running);
      paint();
      subscribe();
      ticker = setInterval(showClock, 1000);
      // Seed 000: the page re-reads the session every minute and a running
      // timer is persisted every minute.
      refetch = setInterval(function () {
        if (!s.sess) return;
        api("GET", "/api/sessions/" + s.sess.id).then(function (x) { if (s.sess && x.id === s.sess.id) { s.sess = x; sync(x.elapsed_seconds, x.timer_running); paint(); } }).catch(function () {});
      }, 60000);
      syncer = setInterval(function () { if (s.sess && s.t.running) api("POST", "/api/sessions/" + s.sess.id + "/sync").catch(function () {}); }, 60000);
      s.notes.every = setInterval(function () { if (dirty()) saveNotes(); }, 30000);
      return api("GET", "/api/sessions/" + id + "/messages?limit=200");
    }).then(function (r) { if (r) (r.items || r).forEach(render); })
      .catch(function (e) { $("session-err").textContent = "This session could not be opened: " + e.message; });
  }
  function sync(elapsed, running) { s.t = { elapsed: elapsed || 0, running: !!running, at: Date.now() }; showClock(); }
  function elapsedNow() { return s.t.elapsed + (s.t.running ? Math.floor((Date.now() - s.t.at) / 1000) : 0); }
  function showClock() {
    if (!s.sess) return;
    var secs = elapsedNow(), limit = s.sess.tier_limit_seconds || 1;
    var level = secs > limit ? "over" : secs >= limit * 0.8 ? "warn" : "";
    $("clock").textContent = clock(secs);
    $("clock").className = "clock " + level;
    $("clock").setAttribute("data-level", level || "ok");
    $("bar").className = "bar " + level;
    $("bar-fill").style.width = Math.min(100, secs / limit * 100) + "%";
  }
  function paint() {
    var v = s.sess, t = v.ticket || {};
    var open = !/^(completed|cancelled)$/.test(v.status);
    $("s-customer").textContent = t.customer_name || "Customer";
    $("s-status").textContent = STATUS[v.status] || v.status;
    $("s-status").className = "badge " + v.status;
    $("s-contact").textContent = [t.customer_phone, t.customer_email].filter(Boolean).join(" · ");
    $("s-desc").textContent = t.description || "";
    var tier = TIERS.filter(function (x) { return x.id === v.tier; })[0];
    $("tier-line").textContent = (tier ? tier.name : v.tier) + ": " + clock(v.tier_limit_seconds) + " included";
    var join = localStorage.getItem("sb_join_" + v.id);
    $("join-wrap").hidden = !join || !open;
    if (join) $("join-url").textContent = location.origin + join;
    var started = !!v.started_at || v.status === "active" || v.status === "paused";
    var phone = !!(t.customer_phone && t.customer_phone.trim());
    $("call").disabled = !open || !started || !phone;
    $("sms").disabled = !open || !started || !phone;
    $("share").disabled = !open || !started;
    $("call").title = $("sms").title = !started ? "Start the session first" : !phone ? "No phone number for this customer" : "";
    $("share").title = started ? "" : "Start the session first";
    $("complete").disabled = !(v.status === "active" || v.status === "paused");
    $("cancel").hidden = !open;
    $("edit-customer").hidden = !open;
    $("toggle").hidden = !open;
    $("toggle").textContent = v.status === "active" ? "Pause" : v.status === "paused" ? "Resume" : "Start";
    $("timer-state").textContent = v.status === "active" ? "Running" : STATUS[v.status] || v.status;
    $("notes").readOnly = !open;
    $("text").disabled = !open;
    showClock();
  }
  function toggle() {
    if (!s.sess || /^(completed|cancelled)$/.test(s.sess.status)) return;
    var next = s.sess.status === "active" ? "paused" : "active";
    $("session-err").textContent = "";
    api("POST", "/api/sessions/" + s.sess.id + "/status", { status: next }).then(function (v) {
      if (!s.sess || v.id !== s.sess.id) return;
      s.sess = v; sync(v.elapsed_seconds, v.timer_running); paint();
    }).catch(fail("session-err"));
  }
  $("toggle").addEventListener("click", toggle);
  function typingField(t) {
    return t && (t.isContentEditable || /^(INPUT|TEXTAREA|SELECT|BUTTON|A|SUMMARY)$/.test(t.tagName));
  }
  document.addEventListener("keydown", function (e) {
    if ($("session").hidden || document.querySelector("dialog[open]")) return;
    // Space toggles the timer unless the key belongs to a field or a
    // button (where it already types or presses).
    if (e.code === "Space" && !typingField(e.target)) { e.preventDefault(); toggle(); }
    if ((e.ctrlKey || e.metaKey) && (e.key === "s" || e.key === "S")) { e.preventDefault(); saveNotes(); }
  });

  // ------------------------------------------------------------ chat
  function render(m) {
    if (!m || s.seen[m.seq]) return;
    s.seen[m.seq] = true; if (m.seq > s.lastSeq) s.lastSeq = m.seq;
    var d = el("div", { "class": "msg " + m.sender_type }, m.content);
    $("log").appendChild(d); $("log").scrollTop = $("log").scrollHeight;
  }
  $("send").addEventListener("submit", function (ev) {
    ev.preventDefault();
    var text = $("text").value.trim(); if (!text || !s.sess) return;
    $("text").value = ""; stopTyping();
    api("POST", "/api/sessions/" + s.sess.id + "/messages", { content: text, client_msg_id: "s-" + Date.now() + "-" + Math.random().toString(36).slice(2) })
      .then(render).catch(fail("session-err"));
  });
  $("text").addEventListener("input", function () {
    if (!s.sess) return;
    if (!s.typing) { s.typing = true; send({ op: "typing", session_id: s.sess.id, is_typing: true }); }
    clearTimeout(s.typingTimer); s.typingTimer = setTimeout(stopTyping, 3000);
  });
  function stopTyping() {
    clearTimeout(s.typingTimer);
    if (s.typing && s.sess) send({ op: "typing", session_id: s.sess.id, is_typing: false });
    s.typing = false;
  }

  // ------------------------------------------------------------ notes
  function dirty() { return s.sess && $("notes").value !== s.notes.saved && !$("notes").readOnly; }
  function saveNotes() {
    if (!s.sess || $("notes").readOnly) return;
    clearTimeout(s.notes.timer);
    if (s.notes.busy) { s.notes.again = true; return; }
    var text = $("notes").value, id = s.sess.id;
    s.notes.busy = true;
    $("save-state").textContent = "Saving…"; $("save-state").className = "save";
    api("PUT", "/api/sessions/" + id + "/notes", { notes: text }).then(function () {
      if (s.sess && s.sess.id === id) s.notes.saved = text;
      $("save-state").textContent = dirty() ? "Unsaved changes" : "Saved";
    }).catch(function (e) {
      $("save-state").textContent = "Save failed"; $("save-state").className = "save failed"; $("save-state").title = e.message;
    }).then(function () {
      s.notes.busy = false;
      if (s.notes.again) { s.notes.again = false; saveNotes(); }
    });
  }
  function flushNotes() { if (dirty()) saveNotes(); }
  $("notes").addEventListener("input", function () {
    $("save-state").textContent = "Unsaved changes"; $("save-state").className = "save";
    clearTimeout(s.notes.timer);
    s.notes.timer = setTimeout(saveNotes, 5000);
  });
  window.addEventListener("beforeunload", flushNotes);

  // ------------------------------------------------------------ header
  $("copy").addEventListener("click", function () {
    var url = $("join-url").textContent;
    var done = function () { $("copy").textContent = "Copied"; setTimeout(function () { $("copy").textContent = "Copy"; }, 2000); };
    if (navigator.clipboard && navigator.clipboard.writeText) navigator.clipboard.writeText(url).then(done, function () { pick(); });
    else pick();
    function pick() { var r = document.createRange(); r.selectNodeContents($("join-url")); var sel = getSelection(); sel.removeAllRanges(); sel.addRange(r); $("copy").textContent = "Press Ctrl+C"; }
  });
  Array.prototype.forEach.call(document.querySelectorAll("dialog [data-close]"), function (b) {
    b.addEventListener("click", function () { b.closest("dialog").close(); });
  });
  $("edit-customer").addEventListener("click", function () {
    var t = s.sess.ticket || {};
    $("c-name").value = t.customer_name || ""; $("c-phone").value = t.customer_phone || ""; $("c-email").value = t.customer_email || "";
    $("customer-err").textContent = "";
    $("customer-dialog").showModal();
  });
  $("customer-form").addEventListener("submit", function (ev) {
    ev.preventDefault();
    var body = { customer_name: $("c-name").value.trim() };
    if ($("c-phone").value.trim()) body.customer_phone = $("c-phone").value.trim();
    if ($("c-email").value.trim()) body.customer_email = $("c-email").value.trim();
    api("PATCH", "/api/tickets/" + s.sess.ticket.id + "/customer-info", body).then(function (r) {
      var t = r.ticket || r;
      ["customer_name", "customer_phone", "customer_email"].forEach(function (k) { if (k in t) s.sess.ticket[k] = t[k]; });
      paint(); $("customer-dialog").close();
    }).catch(fail("customer-err"));
  });
  $("sms").addEventListener("click", function () {
    $("sms-err").textContent = "";
    $("sms-left").textContent = s.sess.sms_remaining != null ? s.sess.sms_remaining + " SMS left in this session" : "";
    var sel = $("sms-template");
    if (sel.options.length < 2) api("GET", "/api/sms/templates").then(function (r) {
      r.items.forEach(function (t) { var o = el("option", { value: t.id }, t.label); o.dataset.body = t.body; sel.appendChild(o); });
    }).catch(function () {});
    $("sms-dialog").showModal();
  });
  $("sms-template").addEventListener("change", function () {
    var o = $("sms-template").selectedOptions[0];
    if (o && o.dataset.body) $("sms-text").value = o.dataset.body;
  });
  $("sms-form").addEventListener("submit", function (ev) {
    ev.preventDefault();
    api("POST", "/api/sessions/" + s.sess.id + "/sms", { message: $("sms-text").value }).then(function (r) {
      if (r.sms_remaining != null) s.sess.sms_remaining = r.sms_remaining;
      $("comms-state").textContent = "SMS sent"; $("sms-text").value = ""; $("sms-dialog").close();
    }).catch(fail("sms-err"));
  });
  $("call").addEventListener("click", function () {
    var calling = $("call").getAttribute("data-calling") === "1";
    api("POST", "/api/sessions/" + s.sess.id + (calling ? "/call/hangup" : "/call")).then(function (r) {
      var st = (r.call && r.call.state) || r.state || (calling ? "ended" : "initiating");
      $("comms-state").textContent = "Call: " + st;
      $("call").setAttribute("data-calling", calling ? "0" : "1");
      $("call").textContent = calling ? "Call" : "Hang up";
    }).catch(fail("session-err"));
  });
  $("share").addEventListener("click", function () {
    api("POST", "/api/sessions/" + s.sess.id + "/screen-share", { solver_peer_id: "solver-" + s.sess.id })
      .then(function () { $("comms-state").textContent = "Screen share requested: waiting for the customer"; })
      .catch(fail("session-err"));
  });
  $("cancel").addEventListener("click", function () { $("cancel-err").textContent = ""; $("cancel-dialog").showModal(); });
  $("cancel-form").addEventListener("submit", function (ev) {
    ev.preventDefault();
    var reason = $("cancel-reason").value.trim();
    api("POST", "/api/sessions/" + s.sess.id + "/cancel", reason ? { reason: reason } : {}).then(function (v) {
      s.sess = v; sync(v.elapsed_seconds, false); paint(); $("cancel-dialog").close();
    }).catch(fail("cancel-err"));
  });

  // ------------------------------------------------------------ completion
  function quote(tier, secs) {
    var over = Math.ceil(Math.max(0, secs - tier.included) / 60);
    return { over: over, overAmount: over * tier.rate, total: tier.price + over * tier.rate };
  }
  function recommended(secs) { return secs <= TIERS[0].included ? "quick" : secs <= TIERS[1].included ? "standard" : "extended"; }
  var frozen = 0;
  $("complete").addEventListener("click", function () {
    flushNotes();
    frozen = elapsedNow();
    var rec = recommended(frozen), box = $("tiers");
    Array.prototype.slice.call(box.querySelectorAll("label")).forEach(function (l) { l.remove(); });
    TIERS.forEach(function (t) {
      var q = quote(t, frozen);
      var l = el("label", { "class": "tier" });
      var r = el("input", { type: "radio", name: "tier", value: t.id });
      if (t.id === rec) r.checked = true;
      r.addEventListener("change", total);
      l.appendChild(r);
      var name = el("span"); name.appendChild(el("strong", null, t.name));
      name.appendChild(document.createTextNode(" · " + clock(t.included) + " included"));
      if (t.id === rec) { name.appendChild(document.createTextNode(" ")); name.appendChild(el("span", { "class": "badge rec" }, "Recommended")); }
      l.appendChild(name);
      l.appendChild(el("span", null, money(q.total)));
      if (q.over) l.appendChild(el("span", { "class": "overage" }, "Overage: " + q.over + " min × " + money(t.rate) + " = " + money(q.overAmount)));
      box.appendChild(l);
    });
    $("m-customer").textContent = (s.sess.ticket || {}).customer_name || "";
    $("m-duration").textContent = clock(frozen);
    $("m-desc").textContent = (s.sess.ticket || {}).description || "";
    $("m-notes").textContent = $("notes").value || "(no notes)";
    $("complete-pick").hidden = false; $("complete-confirm").hidden = true; $("complete-done").hidden = true;
    total();
    $("complete-dialog").showModal();
  });
  function chosen() { var r = document.querySelector("#tiers input:checked"); return TIERS.filter(function (t) { return r && t.id === r.value; })[0]; }
  function total() { var t = chosen(); $("m-total").textContent = t ? money(quote(t, frozen).total) : ""; }
  $("m-next").addEventListener("click", function () {
    $("c-total").textContent = $("m-total").textContent; $("complete-err").textContent = "";
    $("complete-pick").hidden = true; $("complete-confirm").hidden = false; $("c-yes").focus();
  });
  $("c-back").addEventListener("click", function () { $("complete-pick").hidden = false; $("complete-confirm").hidden = true; });
  $("c-yes").addEventListener("click", function () {
    var t = chosen();
    $("c-yes").disabled = true;
    api("POST", "/api/sessions/" + s.sess.id + "/complete", { tier: t.id }).then(function (r) {
      s.sess = r.session; sync(r.session.elapsed_seconds, false); paint();
      $("d-total").textContent = money(r.pricing.total_charged);
      $("d-tier").textContent = t.name;
      $("d-earn").textContent = money(r.pricing.solver_earnings);
      var pay = $("d-pay"); pay.textContent = "";
      if (r.payment && r.payment.payment_url) {
        pay.appendChild(document.createTextNode("Payment link sent to the customer: "));
        pay.appendChild(el("a", { href: r.payment.payment_url, target: "_blank", rel: "noopener" }, r.payment.payment_url));
      }
      $("complete-confirm").hidden = true; $("complete-done").hidden = false;
    }).catch(fail("complete-err")).then(function () { $("c-yes").disabled = false; });
  });
  $("d-queue").addEventListener("click", function () { $("complete-dialog").close(); });

  Staff.login(start);
})();
