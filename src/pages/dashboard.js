/* The agent dashboard (seed 003 5.7): login, status and capacity, the
   conversation lists, a live conversation view with composer and actions,
   and the customer's context. Public contract only: REST + one WebSocket. */
(function () {
  "use strict";
  var $ = function (id) { return document.getElementById(id); };
  var s = { token: sessionStorage.getItem("sb_token"), me: null, project: null, ws: null, refs: 0,
            waiters: {}, tab: "mine", open: null, seen: {}, typingTimer: null, typing: false, backoff: 1000 };

  function el(tag, attrs, text) {
    var e = document.createElement(tag);
    for (var k in attrs || {}) e.setAttribute(k, attrs[k]);
    if (text != null) e.textContent = text;
    return e;
  }
  function api(method, path, body) {
    var h = { "content-type": "application/json" };
    if (s.token) h.authorization = "Bearer " + s.token;
    return fetch(path, { method: method, headers: h, body: body ? JSON.stringify(body) : undefined }).then(function (r) {
      if (r.status === 204) return {};
      return r.json().then(function (j) { if (!r.ok) { var e = new Error(j.message); e.code = j.error; throw e; } return j; });
    });
  }
  function op(body) {
    if (!s.ws || s.ws.readyState !== 1) return Promise.reject(new Error("not connected"));
    body.ref = "d" + (++s.refs);
    s.ws.send(JSON.stringify(body));
    return new Promise(function (res, rej) { s.waiters[body.ref] = { res: res, rej: rej }; });
  }

  // ------------------------------------------------------------ login
  $("login").addEventListener("submit", function (ev) {
    ev.preventDefault();
    $("login-err").textContent = "";
    api("POST", "/api/auth/login", { email: $("email").value, password: $("password").value })
      .then(function (r) { s.token = r.token; sessionStorage.setItem("sb_token", r.token); start(); })
      .catch(function (e) { $("login-err").textContent = e.message; });
  });
  $("logout").addEventListener("click", function () {
    api("POST", "/api/auth/logout").catch(function () {}).then(function () {
      sessionStorage.removeItem("sb_token"); location.reload();
    });
  });

  function start() {
    api("GET", "/api/auth/me").then(function (r) {
      s.me = r.user; s.project = r.projects[0];
      if (!s.project) throw new Error("You are not a member of any project.");
      $("login").hidden = true; $("dash").hidden = false; $("status-wrap").hidden = false; $("logout").hidden = false;
      connect(); refresh(); stats();
    }).catch(function (e) { sessionStorage.removeItem("sb_token"); s.token = null; $("login-err").textContent = e.message; });
  }

  // ------------------------------------------------------------ live
  function connect() {
    var ws = new WebSocket(location.origin.replace(/^http/, "ws") + "/ws?token=" + encodeURIComponent(s.token));
    s.ws = ws;
    ws.onopen = function () {
      s.backoff = 1000;
      op({ op: "subscribe", channel: "agent:" + s.me.id });
      op({ op: "subscribe", channel: "project:" + s.project.id + ":agents" });
      op({ op: "subscribe", channel: "presence:" + s.project.id });
      if (s.open) op({ op: "subscribe", channel: "conversation:" + s.open, after_seq: lastSeq() });
      heartbeat();
    };
    ws.onmessage = function (ev) {
      var f = JSON.parse(ev.data);
      if (f.type === "reply") {
        var w = s.waiters[f.ref]; delete s.waiters[f.ref];
        if (w) { if (f.ok) w.res(f.data); else { var e = new Error(f.message); e.code = f.error; w.rej(e); } }
        return;
      }
      var d = f.data || {};
      if (f.channel.indexOf("conversation:") === 0) return onConversationEvent(f.event, d);
      if (f.event === "new_conversation" || f.event === "conversation_assigned") cue(f.event === "conversation_assigned" ? "New chat assigned" : "New conversation waiting");
      if (f.event === "sync" || f.event === "join" || f.event === "leave") team();
      refresh();
    };
    ws.onclose = function () {
      s.ws = null;
      setTimeout(connect, s.backoff); s.backoff = Math.min(s.backoff * 2, 30000);
    };
  }
  function heartbeat() { op({ op: "heartbeat", project_id: s.project.id }).catch(function () {}); }
  setInterval(function () { if (s.project) heartbeat(); }, 30000);

  function cue(text) {
    var c = $("cue"); c.textContent = text; c.hidden = false;
    document.title = "(!) Switchboard: agent dashboard";
    setTimeout(function () { c.hidden = true; document.title = "Switchboard: agent dashboard"; }, 8000);
  }

  $("status").addEventListener("change", function () {
    op({ op: "set_status", project_id: s.project.id, status: $("status").value }).then(refresh)
      .catch(function (e) { alert(e.message); });
  });

  // ------------------------------------------------------------ lists
  Array.prototype.forEach.call(document.querySelectorAll("[data-tab]"), function (b) {
    b.addEventListener("click", function () {
      s.tab = b.getAttribute("data-tab");
      Array.prototype.forEach.call(document.querySelectorAll("[data-tab]"), function (x) { x.setAttribute("aria-selected", String(x === b)); });
      refresh();
    });
  });

  // Lists follow the project's events, but at most once per 3 s: a busy
  // project must not spend the user's REST budget (100 calls a minute).
  var lastRefresh = 0, refreshTimer = null;
  function refresh() {
    if (!s.project || refreshTimer) return;
    var wait = Math.max(0, lastRefresh + 3000 - Date.now());
    refreshTimer = setTimeout(function () { refreshTimer = null; lastRefresh = Date.now(); load(); }, wait);
  }

  function load() {
    var q = "/api/conversations?limit=50&project_id=" + s.project.id;
    if (s.tab === "mine") q += "&assigned_to=me&status=agent_active";
    if (s.tab === "queue") q += "&status=waiting";
    api("GET", q).then(function (r) {
      var list = $("list"); list.textContent = "";
      var items = r.items;
      if (s.tab === "queue") items = items.slice().sort(function (a, b) { return (a.queue_entered_at || "").localeCompare(b.queue_entered_at || ""); });
      items.forEach(function (c) {
        var li = el("li"); var b = el("button", { type: "button", "data-id": c.id });
        if (c.id === s.open) b.setAttribute("aria-current", "true");
        b.appendChild(document.createTextNode(c.customer_name || c.customer_email || "Visitor " + c.visitor_id.slice(0, 8)));
        var sub = c.status.replace("_", " ");
        if (c.status === "waiting" && c.queue_entered_at) sub += " · " + Math.max(0, Math.round((Date.now() - Date.parse(c.queue_entered_at)) / 60000)) + " min";
        b.appendChild(el("small", null, sub));
        b.addEventListener("click", function () { openConversation(c.id); });
        li.appendChild(b); list.appendChild(li);
      });
      if (!items.length) list.appendChild(el("li", { style: "padding:.8rem;color:#556070" }, "Nothing here."));
    });
    api("GET", "/api/projects/" + s.project.id + "/agents").then(function (agents) {
      var mine = agents.filter(function (a) { return a.user_id === s.me.id; })[0];
      if (mine) { $("count").textContent = mine.current_chat_count + "/" + mine.max_concurrent_chats + " chats"; $("status").value = mine.status; }
      renderTeam(agents);
    }).catch(function () {});
  }
  function team() { refresh(); }
  function renderTeam(agents) {
    var t = $("team"); t.textContent = "";
    agents.forEach(function (a) { t.appendChild(el("li", { style: "padding:.3rem .9rem" }, a.name + " · " + a.status + " · " + a.current_chat_count + "/" + a.max_concurrent_chats)); });
  }
  function stats() {
    api("GET", "/api/agent/stats?project_id=" + s.project.id).then(function (st) {
      $("stats").textContent = "Today's stats · Resolved: " + st.resolved + " · Avg response: " +
        (st.avg_first_response_seconds == null ? "–" : Math.round(st.avg_first_response_seconds) + "s") +
        " · CSAT: " + (st.csat == null ? "–" : st.csat);
    }).catch(function () {});
  }

  // ------------------------------------------------------------ a conversation
  function lastSeq() { var k = Object.keys(s.seen).map(Number); return k.length ? Math.max.apply(null, k) : 0; }

  function openConversation(id) {
    if (s.open && s.open !== id) op({ op: "unsubscribe", channel: "conversation:" + s.open }).catch(function () {});
    s.open = id; s.seen = {};
    Promise.all([api("GET", "/api/conversations/" + id), api("GET", "/api/conversations/" + id + "/messages?limit=100")]).then(function (r) {
      renderView(r[0]); r[1].items.forEach(render); context(r[0]);
      op({ op: "subscribe", channel: "conversation:" + id, after_seq: lastSeq() }).catch(function () {});
      refresh();
    });
  }

  function renderView(c) {
    var v = $("view"); v.textContent = "";
    var head = el("div", { "class": "view-head" });
    head.appendChild(el("h2", { id: "conv-title" }, c.customer_name || c.customer_email || "Visitor"));
    head.appendChild(el("span", { id: "presence", "aria-live": "polite" }, presenceText(c.customer_presence)));
    head.appendChild(el("span", { id: "conv-status" }, c.status.replace("_", " ")));
    function action(label, fn) { var b = el("button", { type: "button", "class": "button" }, label); b.addEventListener("click", fn); head.appendChild(b); }
    if (c.status === "waiting") action("Claim", function () { op({ op: "claim", conversation_id: c.id }).then(function () { openConversation(c.id); }).catch(function (e) { alert(e.message); }); });
    if (c.status === "agent_active" && c.assigned_agent_id === s.me.id) {
      action("Resolve", function () { op({ op: "resolve", conversation_id: c.id }).then(function () { openConversation(c.id); stats(); }).catch(function (e) { alert(e.message); }); });
      action("Back to queue", function () { op({ op: "transfer", conversation_id: c.id }).then(function () { openConversation(c.id); }).catch(function (e) { alert(e.message); }); });
    }
    v.appendChild(head);
    v.appendChild(el("div", { "class": "log", id: "log", role: "log", "aria-live": "polite", "aria-label": "Messages" }));
    v.appendChild(el("div", { "class": "typing", id: "typing", "aria-live": "polite" }));
    var form = el("form", { "class": "composer" });
    var input = el("textarea", { id: "composer", "aria-label": "Reply", placeholder: c.assigned_agent_id === s.me.id ? "Write a reply…" : "Write an internal note…" });
    var send = el("button", { type: "submit", "class": "button" }, c.assigned_agent_id === s.me.id ? "Send" : "Add note");
    form.appendChild(input); form.appendChild(send); v.appendChild(form);
    input.addEventListener("input", function () {
      if (!s.typing) { s.typing = true; op({ op: "typing", conversation_id: c.id, is_typing: true }).catch(function () {}); }
      clearTimeout(s.typingTimer);
      s.typingTimer = setTimeout(function () { s.typing = false; op({ op: "typing", conversation_id: c.id, is_typing: false }).catch(function () {}); }, 3000);
    });
    input.addEventListener("keydown", function (ev) { if (ev.key === "Enter" && !ev.shiftKey) { ev.preventDefault(); form.requestSubmit(); } });
    form.addEventListener("submit", function (ev) {
      ev.preventDefault();
      var text = input.value.trim(); if (!text) return;
      input.value = "";
      var mine = c.assigned_agent_id === s.me.id && c.status === "agent_active";
      (mine ? op({ op: "send_message", conversation_id: c.id, content: text, client_msg_id: "d-" + Date.now() + "-" + Math.random() })
            : api("POST", "/api/conversations/" + c.id + "/notes", { content: text })).then(render)
        .catch(function (e) { alert(e.message); });
    });
  }

  function presenceText(p) {
    return { online: "● Online", idle: "◐ Idle", typing: "✎ Typing…", offline: "○ Left", background: "◐ Away from the page" }[p] || "";
  }

  function render(m) {
    var log = $("log"); if (!log || m.conversation_id !== s.open || s.seen[m.seq]) return;
    s.seen[m.seq] = true;
    var cls = "msg " + m.sender_type + (m.internal ? " internal" : "");
    var d = el("div", { "class": cls, "data-seq": m.seq });
    var who = m.internal ? "Note" : m.sender_type === "ai" ? "AI" + (m.metadata && m.metadata.confidence != null ? " · confidence " + Math.round(m.metadata.confidence * 100) + "%" : "") : m.sender_type === "customer" ? "Customer" : null;
    if (who) d.appendChild(el("span", { "class": "who" }, who));
    d.appendChild(document.createTextNode(m.content));
    log.appendChild(d); log.scrollTop = log.scrollHeight;
  }

  function onConversationEvent(event, d) {
    if (event === "message") return render(d);
    if (event === "typing" && d.user_type === "customer") { var t = $("typing"); if (t) t.textContent = d.is_typing ? "Customer is typing…" : ""; return; }
    if (event === "customer_presence") { var p = $("presence"); if (p) p.textContent = presenceText(d.status); return; }
    if (event === "status_changed" || event === "agent_assigned" || event === "resolved") { if (s.open) openConversation(s.open); }
  }

  function context(c) {
    var ctx = $("ctx"); ctx.textContent = "";
    ctx.appendChild(el("h2", { style: "font-size:1rem" }, "Customer"));
    var cu = c.customer || {};
    ctx.appendChild(el("p", null, cu.email ? cu.email + " (identified)" : "Anonymous visitor " + (c.visitor_id || "").slice(0, 12)));
    var dl = el("dl");
    [["First seen", cu.first_seen_at], ["Total chats", cu.total_conversations], ["Page", cu.last_page_url],
     ["Device", cu.last_device], ["Browser", [cu.last_browser, cu.last_os].filter(Boolean).join(" / ")]].forEach(function (r) {
      if (r[1] == null || r[1] === "") return;
      dl.appendChild(el("dt", null, r[0])); dl.appendChild(el("dd", null, String(r[1])));
    });
    ctx.appendChild(dl);
    var ai = c.ai_context || {};
    ctx.appendChild(el("h2", { style: "font-size:1rem" }, "AI context"));
    ctx.appendChild(el("p", null, "Handoff: " + (ai.handoff_reason || "–") + (ai.trigger_keyword ? " (\"" + ai.trigger_keyword + "\")" : "") +
      " · AI messages: " + (ai.ai_messages_before_handoff || 0) +
      (ai.ai_confidence_at_handoff != null ? " · confidence " + Math.round(ai.ai_confidence_at_handoff * 100) + "%" : "")));
    if (cu.recent_conversations && cu.recent_conversations.length) {
      ctx.appendChild(el("h2", { style: "font-size:1rem" }, "History"));
      var ul = el("ul");
      cu.recent_conversations.forEach(function (h) { ul.appendChild(el("li", null, h.created_at.slice(0, 10) + " · " + h.status + (h.preview ? " · " + h.preview : ""))); });
      ctx.appendChild(ul);
    }
  }

  if (s.token) start();
})();
