/* The agent dashboard (seed 003 5.7): login, status and capacity, the
   conversation lists, a live conversation view with composer and actions
   (claim, resolve, back to queue, transfer to a named agent, tags, mark as
   spam), and the customer's context with their whole history.
   Public contract only: REST + one WebSocket. Errors are shown inline in
   role="alert" regions, never in browser dialogs. */
(function () {
  "use strict";
  var el = Staff.el, api = Staff.api;
  var $ = function (id) { return document.getElementById(id); };
  var s = { me: null, project: null, ws: null, refs: 0,
            waiters: {}, tab: "mine", open: null, conv: null, seen: {}, typingTimer: null, typing: false,
            backoff: 1000, agents: [], skew: 0, audio: null, history: null, canned: [], unread: {} };
  // The "Select a conversation" state, put back when a phone goes back to the list.
  var emptyView = $("empty");


  function button(label, attrs, fn) {
    var a = attrs || {}; a.type = a.type || "button";
    var b = el("button", a, label);
    if (fn) b.addEventListener("click", fn);
    return b;
  }

  function op(body) {
    if (!s.ws || s.ws.readyState !== 1) return Promise.reject(new Error("Not connected to the server; retrying…"));
    body.ref = "d" + (++s.refs);
    s.ws.send(JSON.stringify(body));
    return new Promise(function (res, rej) { s.waiters[body.ref] = { res: res, rej: rej }; });
  }
  // A server error as one sentence: a validation error names its fields.
  function describe(e) {
    if (e && e.fields) return Object.keys(e.fields).map(function (k) { return k + ": " + e.fields[k]; }).join("; ");
    return (e && e.message) || String(e);
  }
  function showError(id, e) { var r = $(id); if (r) r.textContent = e ? describe(e) : ""; }
  function displayName(c) { return c.customer_name || c.customer_email || "Visitor " + (c.visitor_id || "").slice(0, 8); }
  function agentName(id) {
    var a = s.agents.filter(function (x) { return x.user_id === id; })[0];
    return a ? a.name : null;
  }
  // The server's clock, from the timestamps of its events: waiting times are
  // measured on it, not on this computer's clock.
  function serverNow() { return Date.now() + s.skew; }

  // ------------------------------------------------------------ login
  function start() {
    api("GET", "/api/auth/me").then(function (r) {
      s.me = r.user; s.project = r.projects[0];
      if (!s.project) throw new Error("You are not a member of any project.");
      $("login").hidden = true; $("dash").hidden = false; $("status-wrap").hidden = false; $("logout").hidden = false;
      $("responses-open").hidden = false; $("keys-open").hidden = false; notifyButton();
      connect(); refresh(); stats(); loadCanned();
    }).catch(function (e) { Staff.forget(); $("login-err").textContent = e.message; });
  }

  // ------------------------------------------------------------ live
  function connect() {
    // The token goes in the first frame, not the URL: addresses end up in logs.
    var ws = new WebSocket(location.origin.replace(/^http/, "ws") + "/ws");
    s.ws = ws;
    ws.onopen = function () {
      ws.send(JSON.stringify({ op: "auth", ref: "auth", token: Staff.token() }));
      s.backoff = 1000;
      showError("err", null);
      op({ op: "subscribe", channel: "agent:" + s.me.id });
      op({ op: "subscribe", channel: "project:" + s.project.id + ":agents" });
      op({ op: "subscribe", channel: "presence:" + s.project.id });
      if (s.open) subscribeConversation(s.open);
      heartbeat();
    };
    ws.onmessage = function (ev) {
      var f; try { f = JSON.parse(ev.data); } catch (e) { return; }
      if (f.type === "reply") {
        var w = s.waiters[f.ref]; delete s.waiters[f.ref];
        if (w) { if (f.ok) w.res(f.data); else { var e = new Error(f.message); e.code = f.error; w.rej(e); } }
        return;
      }
      if (!f.channel) return;
      var d = f.data || {};
      // Project, presence and agent events are live (a conversation's may be
      // replays): their time is the server's now.
      if (f.ts && f.channel.indexOf("conversation:") !== 0) { var t = Date.parse(f.ts); if (!isNaN(t)) s.skew = t - Date.now(); }
      if (f.channel.indexOf("conversation:") === 0) return onConversationEvent(f.event, d, f.ts);
      if (f.event === "new_conversation") { cue("New conversation waiting"); notify("New conversation waiting", d.preview || "A customer is waiting for an agent.", d.conversation && d.conversation.id); }
      if (f.event === "conversation_assigned") cue("New chat assigned");
      if (f.event === "customer_message") return customerMessage(d);
      if (f.event === "queue_updated" && d.waiting_count != null) queueCount(d.waiting_count);
      refresh();
    };
    ws.onclose = function (ev) {
      s.ws = null;
      // 4001: the server revoked what this socket stood on (a logout, or
      // the user's rights changed): still a member, reconnect at once;
      // removed from the project, back to the login with a sentence.
      if (ev.code === 4001) return recheckAccess();
      $("err").textContent = "The connection to the server was lost; reconnecting…";
      Object.keys(s.waiters).forEach(function (r) { s.waiters[r].rej(new Error("The connection was lost; try again.")); });
      s.waiters = {};
      setTimeout(connect, s.backoff); s.backoff = Math.min(s.backoff * 2, 30000);
    };
  }
  function recheckAccess() {
    var project = s.project;
    api("GET", "/api/auth/me").then(function (r) {
      var still = r.projects.filter(function (p) { return p.id === project.id && p.role === "agent"; }).length;
      if (still) { connect(); return; }
      lostAccess("You are no longer an agent of " + project.name + ". Log in again to continue.");
    }).catch(function () { lostAccess("You were logged out. Log in again to continue."); });
  }
  function lostAccess(why) {
    Staff.forget();
    s.project = null;
    $("dash").hidden = true; $("status-wrap").hidden = true; $("logout").hidden = true; $("responses-open").hidden = true; $("notify-allow").hidden = true; $("keys-open").hidden = true;
    $("login").hidden = false;
    $("login-err").textContent = why;
  }
  function heartbeat() { op({ op: "heartbeat", project_id: s.project.id }).catch(function () {}); }
  setInterval(function () { if (s.project) heartbeat(); }, 30000);

  // A new chat: announced (role=status), shown in the title, and a short
  // tone. Audio may be blocked until the page is used: never let that throw.
  var cueTimer = null;
  function cue(text) {
    $("cue").textContent = text;
    s.cueOn = true; showUnread();
    tone();
    clearTimeout(cueTimer);
    cueTimer = setTimeout(function () { $("cue").textContent = ""; s.cueOn = false; showUnread(); }, 8000);
  }
  function tone() {
    try {
      var Ctx = window.AudioContext || window.webkitAudioContext;
      if (!Ctx) return;
      var ac = s.audio || (s.audio = new Ctx());
      if (ac.state === "suspended" && ac.resume) { var p = ac.resume(); if (p && p.catch) p.catch(function () {}); }
      var o = ac.createOscillator(), g = ac.createGain(), t = ac.currentTime;
      o.type = "sine"; o.frequency.value = 880;
      g.gain.setValueAtTime(0.0001, t);
      g.gain.exponentialRampToValueAtTime(0.15, t + 0.02);
      g.gain.exponentialRampToValueAtTime(0.0001, t + 0.3);
      o.connect(g); g.connect(ac.destination);
      o.start(t); o.stop(t + 0.32);
    } catch (e) { /* no sound is fine: the cue is also shown and announced */ }
  }
  // ------------------------------------------------------------ unread and notifications
  // A customer wrote in one of the agent's conversations: unread unless it
  // is the one on screen while the tab is in front; a notification when
  // the tab is hidden.
  function customerMessage(d) {
    var id = d.conversation_id;
    if (id === s.open && !document.hidden) return refresh();
    s.unread[id] = (s.unread[id] || 0) + 1;
    showUnread(); refresh();
    if (document.hidden) notify((d.customer_name || "Customer") + " wrote", d.preview || "", id);
    else cue("New message from " + (d.customer_name || "a customer"));
  }
  function unreadTotal() { return Object.keys(s.unread).reduce(function (n, k) { return n + s.unread[k]; }, 0); }
  function showUnread() {
    var n = unreadTotal();
    // The unread count, else "(!)" for a moment after a new chat.
    document.title = (n ? "(" + n + ") " : s.cueOn ? "(!) " : "") + "Switchboard: agent dashboard";
    Array.prototype.forEach.call(document.querySelectorAll("#list button[data-id]"), function (b) { badge(b, s.unread[b.getAttribute("data-id")]); });
  }
  function badge(b, n) {
    var old = b.querySelector(".unread"); if (old) old.remove();
    if (n) b.insertBefore(el("span", { "class": "unread", "aria-label": n + " unread" }, String(n)), b.firstChild);
  }
  function markRead(id) { if (s.unread[id]) { delete s.unread[id]; showUnread(); } }
  document.addEventListener("visibilitychange", function () { if (!document.hidden && s.open) markRead(s.open); });
  // Browser notifications, once the agent allows them (the button asks).
  function notify(title, body, id) {
    if (!document.hidden || !("Notification" in window) || Notification.permission !== "granted") return;
    try {
      var n = new Notification(title, { body: body, tag: id ? "sb-" + id : undefined });
      n.onclick = function () { window.focus(); if (id) openConversation(id, true); n.close(); };
    } catch (e) { /* some browsers allow notifications only from a service worker */ }
  }
  function notifyButton() {
    var b = $("notify-allow");
    b.hidden = !("Notification" in window) || Notification.permission !== "default";
  }
  $("notify-allow").addEventListener("click", function () {
    var p = Notification.requestPermission(notifyButton);
    if (p && p.then) p.then(notifyButton);
  });

  function queueCount(n) { $("queue-count").textContent = n ? "(" + n + ")" : ""; }

  $("status").addEventListener("change", function () {
    showError("err", null);
    op({ op: "set_status", project_id: s.project.id, status: $("status").value }).then(refresh)
      .catch(function (e) { showError("err", e); refresh(); });
  });

  // ------------------------------------------------------------ lists
  var tabs = Array.prototype.slice.call(document.querySelectorAll("[role=tab]"));
  function selectTab(b, focus) {
    if (s.search) { $("search").value = ""; s.search = null; }
    s.tab = b.getAttribute("data-tab");
    tabs.forEach(function (x) { var on = x === b; x.setAttribute("aria-selected", String(on)); x.tabIndex = on ? 0 : -1; });
    $("list-panel").setAttribute("aria-labelledby", b.id);
    if (focus) b.focus();
    var list = $("list"); list.textContent = ""; list.appendChild(el("li", { "class": "note" }, "Loading…"));
    refresh();
  }
  tabs.forEach(function (b) { b.addEventListener("click", function () { selectTab(b, false); }); });
  // Arrow keys move between the tabs (WAI-ARIA tabs pattern, automatic activation).
  $("tablist").addEventListener("keydown", function (ev) {
    var i = tabs.indexOf(document.activeElement);
    if (i < 0) return;
    var to = { ArrowRight: i + 1, ArrowLeft: i - 1, Home: 0, End: tabs.length - 1 }[ev.key];
    if (to == null) return;
    ev.preventDefault();
    selectTab(tabs[(to + tabs.length) % tabs.length], true);
  });

  // Lists follow the project's events, but at most once per 3 s: a busy
  // project must not spend the user's REST budget (100 calls a minute).
  var lastRefresh = 0, refreshTimer = null;
  function refresh() {
    if (!s.project || refreshTimer) return;
    var wait = Math.max(0, lastRefresh + 3000 - Date.now());
    refreshTimer = setTimeout(function () { refreshTimer = null; lastRefresh = Date.now(); load(); }, wait);
  }

  // Since when the agent has had it: a time, not a duration, so it needs
  // no agreement between this computer's clock and the server's.
  function since(at) { return "yours since " + stamp(at); }
  function waited(c) {
    var min = Math.max(0, Math.floor((serverNow() - Date.parse(c.queue_entered_at)) / 60000));
    return min < 1 ? "waiting < 1 min" : "waiting " + min + " min";
  }

  // Waiting times move on between refreshes: recount them in place.
  setInterval(function () {
    Array.prototype.forEach.call(document.querySelectorAll("#list button[data-entered]"), function (b) {
      var small = b.querySelector("small"); if (!small) return;
      var rest = small.textContent.replace(/^waiting [^·]*/, "");
      small.textContent = waited({ queue_entered_at: b.getAttribute("data-entered") }) + (rest ? " " + rest.trim() : "");
    });
  }, 30000);

  // ------------------------------------------------------------ search
  // Words of any message, the customer's name or email, and `tag:name`;
  // while a search is on, the list shows its results (all statuses).
  function searchQuery(text) {
    var words = [], tag = null;
    text.split(/\s+/).forEach(function (w) {
      var m = /^tag:(.+)$/i.exec(w);
      if (m) tag = m[1]; else if (w) words.push(w);
    });
    var q = "";
    if (words.length) q += "&q=" + encodeURIComponent(words.join(" "));
    if (tag) q += "&tag=" + encodeURIComponent(tag);
    return q;
  }
  function runSearch(more) {
    var text = $("search").value.trim();
    s.search = text ? (more && s.search ? s.search : { text: text, items: [], next: null }) : null;
    if (!s.search) { load(); return; }
    var req = s.search;
    var q = "/api/conversations?limit=20&project_id=" + s.project.id + searchQuery(text) + (more && req.next ? "&cursor=" + encodeURIComponent(req.next) : "");
    api("GET", q).then(function (r) {
      if (s.search !== req) return;
      req.items = req.items.concat(r.items); req.next = r.next_cursor;
      drawList(req.items, "search");
      var list = $("list");
      if (!req.items.length) list.appendChild(el("li", { "class": "note" }, "No conversation matches “" + text + "”."));
      if (req.next) {
        var li = el("li");
        li.appendChild(button("More results", { "class": "button minor", id: "search-more" }, function () { runSearch(true); }));
        list.appendChild(li);
      }
    }).catch(function (e) { showError("err", e); });
  }
  var searchTimer = null;
  $("search").addEventListener("input", function () { clearTimeout(searchTimer); searchTimer = setTimeout(function () { runSearch(false); }, 300); });
  $("search-form").addEventListener("submit", function (ev) { ev.preventDefault(); clearTimeout(searchTimer); runSearch(false); });
  $("search").addEventListener("keydown", function (ev) {
    if (ev.key === "Escape" && $("search").value) { ev.preventDefault(); $("search").value = ""; runSearch(false); }
  });

  function drawList(items, tab) {
    var list = $("list");
    // What the list shows now: a tab's items or a search's results.
    list.setAttribute("data-showing", tab === "search" ? "search" : "tab");
    // Keep the keyboard where it was across the redraw.
    var focused = document.activeElement && list.contains(document.activeElement) ? document.activeElement.getAttribute("data-id") : null;
    list.textContent = "";
    items.forEach(function (c) {
      var li = el("li"); var b = el("button", { type: "button", "data-id": c.id });
      if (c.id === s.open) b.setAttribute("aria-current", "true");
      b.appendChild(document.createTextNode(displayName(c)));
      badge(b, s.unread[c.id]);
      var sub = c.status.replace("_", " ");
      if (c.status === "waiting" && c.queue_entered_at) { sub = waited(c); b.setAttribute("data-entered", c.queue_entered_at); }
      if (c.status === "agent_active" && c.claimed_at) sub += " · " + since(c.claimed_at);
      if (c.tags && c.tags.length) sub += " · " + c.tags.join(", ");
      b.appendChild(el("small", null, sub));
      var m = c.last_message;
      if (m) {
        var who = { customer: "", ai: "AI: ", agent: "Agent: ", system: "" }[m.sender_type] || "";
        b.appendChild(el("small", { "class": "preview" }, who + m.content));
        b.appendChild(el("small", { "class": "when" }, stamp(m.created_at)));
      }
      b.addEventListener("click", function () { openConversation(c.id, true); });
      li.appendChild(b); list.appendChild(li);
      if (focused === c.id) b.focus();
    });
    if (!items.length && tab !== "search") list.appendChild(el("li", { "class": "note" }, "Nothing here."));
  }

  function load() {
    if (!s.project) return;
    if (s.search) { loadTeamOnly(); return; }
    var q = "/api/conversations?limit=50&project_id=" + s.project.id;
    var tab = s.tab;
    if (tab === "mine") q += "&assigned_to=me&status=agent_active";
    if (tab === "queue") q += "&status=waiting";
    api("GET", q).then(function (r) {
      if (tab !== s.tab || s.search) return;
      var items = r.items;
      if (tab === "queue") {
        items = items.slice().sort(function (a, b) { return (a.queue_entered_at || "").localeCompare(b.queue_entered_at || ""); });
        queueCount(items.length);
      }
      drawList(items, tab);
    }).catch(function (e) { showError("err", e); });
    loadTeamOnly();
  }
  function loadTeamOnly() {
    api("GET", "/api/projects/" + s.project.id + "/agents").then(function (agents) {
      s.agents = agents;
      var mine = agents.filter(function (a) { return a.user_id === s.me.id; })[0];
      if (mine) { $("count").textContent = mine.name + " · " + mine.current_chat_count + "/" + mine.max_concurrent_chats + " chats"; $("status").value = mine.status; }
      renderTeam(agents); transferOptions();
    }).catch(function () {});
  }
  function renderTeam(agents) {
    var t = $("team"); t.textContent = "";
    agents.forEach(function (a) {
      var dot = { online: "● ", away: "◐ ", offline: "○ " }[a.status] || "";
      var li = el("li", { "class": "note" });
      // A face when the member set one (https only, as the server allows).
      if (a.avatar_url && /^https:\/\//.test(a.avatar_url)) li.appendChild(el("img", { "class": "face", src: a.avatar_url, alt: "", width: "20", height: "20" }));
      li.appendChild(document.createTextNode(dot + a.name + (a.user_id === s.me.id ? " (you)" : "") + " · " + a.status + " · " + a.current_chat_count + "/" + a.max_concurrent_chats));
      t.appendChild(li);
    });
  }
  function stats() {
    if (!s.project) return;
    api("GET", "/api/agent/stats?project_id=" + s.project.id).then(function (st) {
      var p = $("stats"); if (!p) return;
      p.textContent = "Today's stats · Resolved: " + st.resolved + " · Avg response: " +
        (st.avg_first_response_seconds == null ? "–" : Math.round(st.avg_first_response_seconds) + "s") +
        " · CSAT: " + (st.csat == null ? "–" : st.csat);
    }).catch(function () {});
  }

  // ------------------------------------------------------------ a conversation
  function lastSeq() { var k = Object.keys(s.seen).map(Number); return k.length ? Math.max.apply(null, k) : 0; }
  // Replay after what is on screen. It comes in pages of at most 200 seqs:
  // while the server answers more, subscribe again from where the page
  // stopped (unless another conversation was opened); then it is live.
  function subscribeConversation(id) {
    (function page(after) {
      op({ op: "subscribe", channel: "conversation:" + id, after_seq: after }).then(function (d) {
        if (d && d.more && s.open === id) page(d.replayed_to);
      }).catch(function () {});
    })(lastSeq());
  }

  // Open `id` (`focus`: the user chose it, so the composer gets the focus);
  // reopening the one on screen redraws it and keeps drafts and focus.
  function openConversation(id, focus) {
    var same = s.open === id;
    if (s.open && !same) op({ op: "unsubscribe", channel: "conversation:" + s.open }).catch(function () {});
    s.open = id;
    markRead(id);
    $("dash").classList.add("open");
    Array.prototype.forEach.call(document.querySelectorAll("#list button[data-id]"), function (b) {
      if (b.getAttribute("data-id") === id) b.setAttribute("aria-current", "true"); else b.removeAttribute("aria-current");
    });
    Promise.all([api("GET", "/api/conversations/" + id), api("GET", "/api/conversations/" + id + "/messages?limit=100")]).then(function (r) {
      if (s.open !== id) return;
      var keep = same && $("view").getAttribute("data-id") === id ? snapshot() : null;
      s.seen = {};
      s.conv = r[0];
      renderView(r[0]); r[1].items.forEach(render); context(r[0]);
      if (keep) restore(keep);
      else if (focus) { var c = $("composer"); if (c) c.focus(); else { var h = $("conv-title"); h.tabIndex = -1; h.focus(); } }
      if (!same) subscribeConversation(id);
      refresh();
    }).catch(function (e) { showError("err", e); });
  }

  // Phones show the list or the conversation: back to the list.
  function closeView() {
    if (s.open) op({ op: "unsubscribe", channel: "conversation:" + s.open }).catch(function () {});
    var was = s.open;
    s.open = null; s.conv = null; s.seen = {};
    $("dash").classList.remove("open");
    var v = $("view"); v.textContent = ""; v.removeAttribute("data-id"); v.appendChild(emptyView);
    $("ctx").textContent = "";
    stats();
    var b = document.querySelector("#list button[data-id='" + was + "']");
    if (b) { b.removeAttribute("aria-current"); b.focus(); } else tabs.filter(function (t) { return t.tabIndex === 0; })[0].focus();
  }

  var kept = ["composer", "tag-input", "transfer-to", "contact-name", "contact-email", "customer-notes", "flag-reason"];
  function snapshot() {
    var k = { active: document.activeElement && document.activeElement.id, values: {}, err: $("view-err") ? $("view-err").textContent : "",
              note: $("view-note") ? $("view-note").textContent : "", confirm: $("spam-confirm") && !$("spam-confirm").hidden,
              closing: $("close-confirm") && !$("close-confirm").hidden,
              editing: $("contact-form") && !$("contact-form").hidden };
    kept.forEach(function (id) { if ($(id)) k.values[id] = $(id).value; });
    return k;
  }
  function restore(k) {
    kept.forEach(function (id) { if ($(id) && k.values[id] != null) $(id).value = k.values[id]; });
    if ($("view-err")) $("view-err").textContent = k.err;
    if ($("view-note")) $("view-note").textContent = k.note;
    if (k.confirm && $("spam-confirm")) $("spam-confirm").hidden = false;
    if (k.closing && $("close-confirm")) $("close-confirm").hidden = false;
    if (k.editing && $("contact-form")) $("contact-form").hidden = false;
    if (k.active && $(k.active)) $(k.active).focus();
  }

  function renderView(c) {
    var v = $("view"); v.textContent = ""; v.setAttribute("data-id", c.id);
    var mine = c.status === "agent_active" && c.assigned_agent_id === s.me.id;
    var head = el("div", { "class": "view-head" });
    head.appendChild(button("← Back to list", { "class": "button minor back", id: "back" }, closeView));
    head.appendChild(el("h2", { id: "conv-title" }, displayName(c)));
    head.appendChild(contactLine(c));
    var seen = s.presence && s.presence[c.id];
    head.appendChild(el("span", { id: "presence", "aria-live": "polite" }, seen && seen.status === c.customer_presence ? presenceWithTime(seen) : presenceText(c.customer_presence)));
    var status = c.status.replace("_", " ");
    if (c.status === "agent_active" && !mine) status += " · " + (agentName(c.assigned_agent_id) || "another agent");
    head.appendChild(el("span", { id: "conv-status" }, status));
    function action(label, fn, cls, id) {
      var attrs = { "class": "button" + (cls ? " " + cls : "") }; if (id) attrs.id = id;
      head.appendChild(button(label, attrs, fn));
    }
    function after(p, then) { showError("view-err", null); p.then(then || function () { openConversation(c.id); }).catch(function (e) { showError("view-err", e); }); }
    if (c.status === "waiting") action("Claim", function () { after(op({ op: "claim", conversation_id: c.id })); });
    if (mine) {
      action("Resolve", function () { after(op({ op: "resolve", conversation_id: c.id }), function () { openConversation(c.id); stats(); }); }, null, "resolve");
      action("Back to queue", function () { after(op({ op: "transfer", conversation_id: c.id })); }, "minor");
      // Asks the customer in the widget for an email (kept as unverified
      // contact information).
      if (!c.customer_email) action("Request email", function () {
        after(op({ op: "send_message", conversation_id: c.id, content: "Could you leave your email address so we can follow up?",
                   client_msg_id: "d-" + Date.now() + "-" + Math.random(), metadata: { request: "email" } }).then(render),
              function () { $("view-note").textContent = "Asked the customer for their email."; });
      }, "minor", "request-email");
    }
    if (c.status !== "closed" && (mine || c.status === "resolved")) action("Close", function () { $("close-confirm").hidden = false; $("close-no").focus(); }, "minor", "close-ask");
    if (c.status !== "closed" && c.customer) action("Mark as spam", function () { $("spam-confirm").hidden = false; $("spam-no").focus(); }, "minor", "spam-ask");
    v.appendChild(head);

    var tools = el("div", { "class": "tools" });
    if (c.status !== "closed") tools.appendChild(contactForm(c));
    if (mine) tools.appendChild(transferForm(c));
    tools.appendChild(tagsBox(c));
    if (c.status !== "closed") tools.appendChild(closeConfirm(c));
    if (c.status !== "closed" && c.customer) tools.appendChild(spamConfirm(c));
    v.appendChild(tools);
    transferOptions();
    v.appendChild(el("div", { "class": "err", id: "view-err", role: "alert" }));
    v.appendChild(el("div", { "class": "note", id: "view-note", role: "status" }));

    v.appendChild(el("div", { "class": "banner", id: "autoclose", role: "status", hidden: "" }));
    v.appendChild(el("div", { "class": "log", id: "log", role: "log", "aria-live": "polite", "aria-label": "Messages" }));
    v.appendChild(el("div", { "class": "typing", id: "typing", "aria-live": "polite" }));
    if (c.status === "closed") { v.appendChild(el("p", { "class": "typing" }, "This conversation is closed.")); return; }
    // Two modes for the assigned agent (Reply, Internal note; Ctrl+/ or
    // Cmd+/ switches); anyone else writes notes only.
    var noting = !mine || s.mode === "note";
    var modes = el("div", { "class": "modes", role: "group", "aria-label": "What you write" });
    var form = el("form", { "class": "composer" + (noting ? " note-mode" : "") });
    var label = el("label", { "for": "composer", "class": "sr-only" }, "");
    var input = el("textarea", { id: "composer" });
    var send = el("button", { type: "submit", "class": "button", id: "composer-send" }, "");
    function setMode(note) {
      noting = note || !mine;
      s.mode = noting ? "note" : "reply";
      form.classList.toggle("note-mode", noting);
      label.textContent = noting ? "Internal note" : "Reply to the customer";
      input.placeholder = noting ? "Write an internal note (the customer never sees it)…" : "Write a reply…";
      send.textContent = noting ? "Add note" : "Send";
      Array.prototype.forEach.call(modes.children, function (b) { b.setAttribute("aria-pressed", String((b.getAttribute("data-mode") === "note") === noting)); });
    }
    if (mine) {
      [["reply", "Reply"], ["note", "Internal note"]].forEach(function (m) {
        modes.appendChild(button(m[1], { "class": "button minor mode", "data-mode": m[0], title: "Ctrl+/ switches" }, function () { setMode(m[0] === "note"); input.focus(); }));
      });
      v.appendChild(modes);
    }
    form.appendChild(label); form.appendChild(input); form.appendChild(send); v.appendChild(form);
    setMode(noting);
    input.addEventListener("keydown", function (ev) {
      if ((ev.ctrlKey || ev.metaKey) && ev.key === "/") { ev.preventDefault(); setMode(!noting); }
    });
    input.addEventListener("input", function () {
      if (!mine || noting) return;
      if (!s.typing) { s.typing = true; op({ op: "typing", conversation_id: c.id, is_typing: true }).catch(function () {}); }
      clearTimeout(s.typingTimer);
      s.typingTimer = setTimeout(function () { s.typing = false; op({ op: "typing", conversation_id: c.id, is_typing: false }).catch(function () {}); }, 3000);
    });
    var picker = cannedPicker(input, c);
    form.insertBefore(picker.list, form.firstChild);
    input.addEventListener("keydown", function (ev) {
      if (picker.key(ev)) return;
      if (ev.key === "Enter" && !ev.shiftKey) { ev.preventDefault(); form.requestSubmit(); }
    });
    form.addEventListener("submit", function (ev) {
      ev.preventDefault();
      var text = input.value.trim(); if (!text) return;
      input.value = "";
      showError("view-err", null);
      // Delivery state of the agent's own message: "Sending…" until the
      // server has it durably (its answer), then the message with "Sent".
      var pending = el("div", { "class": "msg agent pending" + (noting ? " internal" : ""), role: "status" });
      pending.appendChild(document.createTextNode(text));
      pending.appendChild(el("span", { "class": "state" }, "Sending…"));
      var log = $("log"); if (log) { log.appendChild(pending); log.scrollTop = log.scrollHeight; }
      (!noting ? op({ op: "send_message", conversation_id: c.id, content: text, client_msg_id: "d-" + Date.now() + "-" + Math.random() })
            : api("POST", "/api/conversations/" + c.id + "/notes", { content: text })).then(function (m) { pending.remove(); render(m); })
        .catch(function (e) {
          // Keep what was written: nothing was sent.
          pending.remove();
          var i = $("composer"); if (i && !i.value) i.value = text;
          showError("view-err", e);
        });
    });
  }

  // Close (seed 003 5.7.4), asked in the page first: the chat ends for the
  // customer too, and a closed conversation does not reopen.
  function closeConfirm(c) {
    var box = el("div", { "class": "confirm", id: "close-confirm", role: "group", "aria-label": "Close the conversation?", hidden: "" });
    box.appendChild(el("p", null, "Close this conversation? The customer's chat ends and it cannot be reopened."));
    box.appendChild(button("Close it", { "class": "button danger", id: "close-yes" }, function () {
      showError("view-err", null);
      api("PATCH", "/api/conversations/" + c.id, { status: "closed" }).then(function () {
        $("view-note").textContent = "Closed.";
        openConversation(c.id); refresh(); stats();
      }).catch(function (e) { box.hidden = true; showError("view-err", e); });
    }));
    box.appendChild(button("Cancel", { "class": "button minor", id: "close-no" }, function () { box.hidden = true; $("close-ask").focus(); }));
    return box;
  }

  // The customer's email under the name, with Copy (seed 003 5.7.4), and
  // Edit for the name and email the team keeps as contact details.
  function contactLine(c) {
    var line = el("span", { "class": "contact", id: "contact" });
    if (c.customer_email) {
      line.appendChild(el("span", { id: "contact-shown" }, c.customer_email + (c.customer_email_verified ? "" : " (unverified)")));
      line.appendChild(button("Copy", { "class": "button minor small", id: "copy-email", "aria-label": "Copy the email " + c.customer_email }, function () {
        var b = $("copy-email");
        copyText(c.customer_email).then(function () { b.textContent = "Copied"; },
          function () { b.textContent = "Select and copy"; selectText($("contact-shown")); });
      }));
    }
    if (c.status !== "closed") line.appendChild(button("Edit", { "class": "button minor small", id: "contact-edit", "aria-label": "Edit the customer's name and email" }, function () {
      var f = $("contact-form"); f.hidden = false; $("contact-name").focus();
    }));
    return line;
  }
  function copyText(text) {
    try { if (navigator.clipboard && navigator.clipboard.writeText) return navigator.clipboard.writeText(text); } catch (e) { /* below */ }
    return Promise.reject(new Error("no clipboard"));
  }
  function selectText(node) {
    if (!node) return;
    var r = document.createRange(); r.selectNodeContents(node);
    var sel = window.getSelection(); sel.removeAllRanges(); sel.addRange(r);
  }
  function contactForm(c) {
    var form = el("form", { id: "contact-form", "aria-label": "Customer's contact details", hidden: "", novalidate: "" });
    form.appendChild(el("label", { "for": "contact-name" }, "Name"));
    form.appendChild(el("input", { id: "contact-name", type: "text", autocomplete: "off", value: c.customer_name || "" }));
    form.appendChild(el("label", { "for": "contact-email" }, "Email"));
    var email = el("input", { id: "contact-email", type: "email", autocomplete: "off", value: c.customer_email || "" });
    // A proven email is the customer's identity: shown, not edited here.
    if (c.customer_email_verified) { email.readOnly = true; email.title = "Proven by the customer"; }
    form.appendChild(email);
    form.appendChild(el("button", { type: "submit", "class": "button minor", id: "contact-save" }, "Save"));
    form.appendChild(button("Cancel", { "class": "button minor", id: "contact-cancel" }, function () { form.hidden = true; $("contact-edit").focus(); }));
    form.addEventListener("submit", function (ev) {
      ev.preventDefault();
      showError("view-err", null);
      var body = {}, name = $("contact-name").value.trim(), mail = $("contact-email").value.trim();
      if (name && name !== (c.customer_name || "")) body.customer_name = name;
      if (mail && mail !== (c.customer_email || "")) body.customer_email = mail;
      if (!Object.keys(body).length) { form.hidden = true; return; }
      api("PATCH", "/api/conversations/" + c.id, body).then(function () {
        form.hidden = true;
        $("view-note").textContent = "Contact details saved.";
        openConversation(c.id); refresh();
      }).catch(function (e) { showError("view-err", e); });
    });
    form.addEventListener("keydown", function (ev) { if (ev.key === "Escape") { ev.preventDefault(); form.hidden = true; $("contact-edit").focus(); } });
    return form;
  }

  // Transfer to a named agent (seed 003 5.7.7): the others of the project
  // with their status and load; the server decides who can take it.
  function transferForm(c) {
    var form = el("form", { id: "transfer-form", "aria-label": "Transfer" });
    form.appendChild(el("label", { "for": "transfer-to" }, "Transfer to"));
    form.appendChild(el("select", { id: "transfer-to" }));
    form.appendChild(el("button", { type: "submit", "class": "button minor" }, "Transfer"));
    form.addEventListener("submit", function (ev) {
      ev.preventDefault();
      showError("view-err", null);
      var to = $("transfer-to").value;
      if (!to) { $("view-err").textContent = "Choose an agent to transfer to."; $("transfer-to").focus(); return; }
      var name = agentName(to) || "the agent";
      op({ op: "transfer", conversation_id: c.id, to_agent_id: to }).then(function () {
        $("view-note").textContent = "Transferred to " + name + ".";
        openConversation(c.id); refresh();
      }).catch(function (e) { showError("view-err", e); });
    });
    return form;
  }
  function transferOptions() {
    var sel = $("transfer-to"); if (!sel) return;
    var chosen = sel.value; sel.textContent = "";
    sel.appendChild(el("option", { value: "" }, "Choose an agent…"));
    s.agents.filter(function (a) { return a.user_id !== s.me.id; }).forEach(function (a) {
      sel.appendChild(el("option", { value: a.user_id }, a.name + " · " + a.status + " · " + a.current_chat_count + "/" + a.max_concurrent_chats + " chats"));
    });
    sel.value = chosen;
    if (sel.value !== chosen) sel.value = "";
  }

  // Tags as chips; every change saves the whole list (an edit of the
  // conversation). The server trims, lowercases and limits them, and its
  // answer is shown.
  function tagsBox(c) {
    var box = el("div", { "class": "tags", role: "group", "aria-labelledby": "tags-label" });
    box.appendChild(el("span", { id: "tags-label" }, "Tags"));
    var chips = el("ul", { "class": "chips", id: "tags" });
    box.appendChild(chips);
    var closed = c.status === "closed";
    function save(tags, then) {
      showError("view-err", null);
      api("PATCH", "/api/conversations/" + c.id, { tags: tags }).then(function (v) {
        c.tags = v.tags || tags; draw(); if (then) then(); refresh();
      }).catch(function (e) { showError("view-err", e); });
    }
    function draw() {
      chips.textContent = "";
      (c.tags || []).forEach(function (t) {
        var li = el("li", { "class": "chip" }); li.appendChild(el("span", null, t));
        if (!closed) li.appendChild(button("×", { "aria-label": "Remove tag " + t }, function () {
          save(c.tags.filter(function (x) { return x !== t; }), function () { var i = $("tag-input"); if (i) i.focus(); });
        }));
        chips.appendChild(li);
      });
      if (!(c.tags || []).length) chips.appendChild(el("li", { "class": "typing" }, "none"));
    }
    draw();
    if (!closed) {
      var form = el("form", { id: "tag-form" });
      form.appendChild(el("label", { "for": "tag-input", "class": "sr-only" }, "Add a tag"));
      var input = el("input", { id: "tag-input", type: "text", placeholder: "Add a tag", autocomplete: "off", size: "12" });
      form.appendChild(input);
      form.appendChild(el("button", { type: "submit", "class": "button minor" }, "Add"));
      form.addEventListener("submit", function (ev) {
        ev.preventDefault();
        var t = input.value.trim(); if (!t) return;
        save((c.tags || []).concat([t]), function () { input.value = ""; input.focus(); });
      });
      box.appendChild(form);
    }
    return box;
  }

  // Mark as spam (seed 003 5.7.7): flag the customer with reason "spam",
  // then close the conversation, after a confirmation in the page.
  function spamConfirm(c) {
    var box = el("div", { "class": "confirm", id: "spam-confirm", role: "group", "aria-labelledby": "spam-q", hidden: "" });
    box.appendChild(el("p", { id: "spam-q" }, "Mark this customer as spam and close the conversation?"));
    box.appendChild(button("Mark as spam and close", { "class": "button danger", id: "spam-yes" }, function () {
      showError("view-err", null);
      api("PATCH", "/api/projects/" + c.project_id + "/customers/" + c.customer.id, { is_flagged: true, flag_reason: "spam" })
        .then(function () { return api("POST", "/api/conversations/" + c.id + "/close"); })
        .then(function () { openConversation(c.id); refresh(); })
        .catch(function (e) { showError("view-err", e); });
    }));
    function cancel() { box.hidden = true; var b = $("spam-ask"); if (b) b.focus(); }
    box.appendChild(button("Cancel", { "class": "button minor", id: "spam-no" }, cancel));
    box.addEventListener("keydown", function (ev) { if (ev.key === "Escape") { ev.preventDefault(); cancel(); } });
    return box;
  }

  function presenceText(p) {
    return { online: "● Online", idle: "◐ Idle", typing: "✎ Typing…", offline: "○ Left", background: "◐ Away from the page" }[p] || "";
  }

  // When a message was written: the time today, the date and time before
  // (the server's clock decides what "today" is).
  function stamp(at) {
    var t = new Date(at); if (isNaN(t)) return "";
    var now = new Date(serverNow());
    var time = t.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
    return t.toDateString() === now.toDateString() ? time : t.toLocaleDateString([], { day: "numeric", month: "short" }) + " " + time;
  }
  var REASONS = { keyword: "keyword", low_confidence: "low confidence", button_click: "the customer asked", customer_request: "the customer asked" };
  // The handoff marker says why the AI handed off.
  function handoffText(meta) {
    var why = REASONS[meta.reason] || meta.reason || "handoff";
    if (meta.reason === "keyword" && meta.keyword) why = "keyword '" + meta.keyword + "'";
    if (meta.reason === "low_confidence" && meta.confidence != null) why += " (" + Math.round(meta.confidence * 100) + "%)";
    return "Handed off: " + why;
  }
  function render(m) {
    var log = $("log"); if (!log || m.conversation_id !== s.open || s.seen[m.seq]) return;
    s.seen[m.seq] = true;
    var meta = m.metadata || {};
    var marker = m.sender_type === "system" && meta.event === "handoff_triggered";
    var cls = "msg " + m.sender_type + (m.internal ? " internal" : "") + (marker ? " handoff" : "");
    var d = el("div", { "class": cls, "data-seq": m.seq });
    var who = m.internal ? "Internal note" + (m.sender_id && m.sender_id !== s.me.id ? " · " + (agentName(m.sender_id) || "agent") : "")
      : m.sender_type === "ai" ? "AI" + (meta.confidence != null ? " · confidence " + Math.round(meta.confidence * 100) + "%" : "")
      : m.sender_type === "customer" ? "Customer"
      : m.sender_type === "agent" ? (m.sender_id === s.me.id ? "You" : agentName(m.sender_id) || "Agent") : null;
    if (who) {
      var whoEl = el("span", { "class": "who" });
      var agent = m.sender_type === "agent" && s.agents.filter(function (a) { return a.user_id === m.sender_id; })[0];
      if (agent && agent.avatar_url && /^https:\/\//.test(agent.avatar_url)) whoEl.appendChild(el("img", { "class": "face", src: agent.avatar_url, alt: "", width: "16", height: "16" }));
      whoEl.appendChild(document.createTextNode(who));
      d.appendChild(whoEl);
    }
    d.appendChild(document.createTextNode(marker ? handoffText(meta) : m.content));
    if (m.created_at) {
      var when = el("time", { "class": "when", datetime: m.created_at, title: new Date(m.created_at).toLocaleString() }, stamp(m.created_at));
      // The agent's own messages say they reached the server (stored).
      if (m.sender_type === "agent" && m.sender_id === s.me.id && !m.internal) when.appendChild(document.createTextNode(" · Sent"));
      d.appendChild(when);
    }
    log.appendChild(d); log.scrollTop = log.scrollHeight;
    if (m.sender_type === "system" && meta.event === "inactivity_warning" && s.conv && s.conv.auto_close_warning_sent_at) autoCloseBanner(meta.closes_at, m.created_at);
  }

  // Minutes between two server times (both from the server's clock).
  function minutesBetween(from, to) {
    var a = Date.parse(from), b = Date.parse(to);
    return isNaN(a) || isNaN(b) ? null : Math.max(0, Math.round((b - a) / 60000));
  }
  // "Idle · last active 3 min ago": the presence event carries the server's
  // time of the change and the customer's last activity.
  function presenceWithTime(d) {
    var text = presenceText(d.status);
    var ago = d.status === "online" || d.status === "typing" ? null : minutesBetween(d.last_seen_at, d.timestamp);
    return ago == null ? text : text + " · last active " + (ago < 1 ? "just now" : ago + " min ago");
  }
  // Seed 003 5.12.9: the warning sent to an inactive customer, and when the
  // chat closes unless they answer (`at`: when the warning went out).
  function autoCloseBanner(closesAt, at) {
    var b = $("autoclose"); if (!b) return;
    if (!closesAt) { b.hidden = true; b.textContent = ""; return; }
    var left = minutesBetween(at, closesAt);
    b.textContent = "The customer was asked if they are still there: this chat will close" + (left != null ? " in " + left + " min" : "") + " unless they answer.";
    b.hidden = false;
  }
  function onConversationEvent(event, d, ts) {
    if (event === "message") return render(d);
    if (event === "typing" && d.user_type === "customer") { var t = $("typing"); if (t) t.textContent = d.is_typing ? "Customer is typing…" : ""; return; }
    if (event === "customer_presence") {
      s.presence = s.presence || {}; if (s.open) s.presence[s.open] = d;
      var p = $("presence"); if (p) p.textContent = presenceWithTime(d); return;
    }
    if (event === "inactivity_warning") return autoCloseBanner(d.active ? d.closes_at : null, ts);
    if (event === "conversation_updated") { if (s.open) openConversation(s.open); refresh(); return; }
    if (event === "status_changed" || event === "agent_assigned" || event === "resolved" || event === "conversation_auto_closed") {
      if (s.open) openConversation(s.open);
    }
  }

  // ------------------------------------------------------------ keyboard
  // Shortcuts outside text fields (`?` lists them on the page): j/k move
  // through the list, Enter opens, r writes, e resolves, / searches.
  function typingInField(t) { return t && (/^(INPUT|TEXTAREA|SELECT)$/.test(t.tagName) || t.isContentEditable); }
  function moveInList(step) {
    var items = Array.prototype.slice.call(document.querySelectorAll("#list button[data-id]"));
    if (!items.length) return;
    var i = items.indexOf(document.activeElement);
    if (i < 0) i = items.findIndex(function (b) { return b.getAttribute("aria-current") === "true"; });
    var next = i < 0 ? (step > 0 ? 0 : items.length - 1) : Math.max(0, Math.min(items.length - 1, i + step));
    items[next].focus();
  }
  document.addEventListener("keydown", function (ev) {
    if (ev.ctrlKey || ev.metaKey || ev.altKey || $("dash").hidden) return;
    if (ev.key === "Escape" && typingInField(ev.target) && ev.target.id === "composer") { ev.target.blur(); return; }
    if (typingInField(ev.target) || document.querySelector("dialog[open]")) return;
    var act = {
      j: function () { moveInList(1); }, k: function () { moveInList(-1); },
      r: function () { var c = $("composer"); if (c) c.focus(); },
      e: function () { var b = $("resolve"); if (b) b.click(); },
      "/": function () { $("search").focus(); },
      "?": function () { $("keys-help").showModal(); }
    }[ev.key];
    if (!act) return;
    ev.preventDefault(); act();
  });
  $("keys-close").addEventListener("click", function () { $("keys-help").close(); });
  $("keys-open").addEventListener("click", function () { $("keys-help").showModal(); });

  // ------------------------------------------------------------ canned responses
  // The project's responses and the agent's own (issue 17); `/` at the
  // start of the composer opens a list filtered by what follows it.
  function loadCanned() {
    if (!s.project) return Promise.resolve();
    return api("GET", "/api/projects/" + s.project.id + "/canned-responses").then(function (r) {
      s.canned = r.items; drawMyResponses();
    }).catch(function (e) { showError("err", e); });
  }
  // The text with its variables filled for this conversation.
  function fill(text, c) {
    var values = { "customer.name": (c && c.customer_name) || "there", "customer.email": (c && c.customer_email) || "",
                   "agent.name": (s.me && s.me.name) || "" };
    return text.replace(/\{\{\s*([a-z.]+)\s*\}\}/g, function (all, name) { return name in values ? values[name] : all; });
  }
  function cannedPicker(input, c) {
    var list = el("ul", { "class": "canned", id: "canned-list", role: "listbox", "aria-label": "Canned responses", hidden: "" });
    var shown = [], at = 0;
    input.setAttribute("role", "combobox");
    input.setAttribute("aria-controls", "canned-list");
    input.setAttribute("aria-autocomplete", "list");
    input.setAttribute("aria-expanded", "false");
    function close() { list.hidden = true; shown = []; input.setAttribute("aria-expanded", "false"); input.removeAttribute("aria-activedescendant"); }
    function choose(r) { input.value = fill(r.content, s.conv || c); close(); input.focus(); input.dispatchEvent(new Event("input")); }
    function draw() {
      var m = /^\/(\S*)$/.exec(input.value);
      if (!m) return close();
      var q = m[1].toLowerCase();
      shown = s.canned.filter(function (r) { return r.shortcode.indexOf(q) === 0 || (q && r.content.toLowerCase().indexOf(q) >= 0); }).slice(0, 8);
      list.textContent = "";
      if (!shown.length) {
        list.appendChild(el("li", { "class": "none" }, s.canned.length ? "No response starts with /" + q : "No canned responses yet: add yours with Responses above."));
      }
      at = Math.min(at, Math.max(0, shown.length - 1));
      shown.forEach(function (r, i) {
        var li = el("li", { role: "option", id: "canned-" + i, "aria-selected": String(i === at), "data-shortcode": r.shortcode });
        li.appendChild(el("strong", null, "/" + r.shortcode));
        li.appendChild(el("span", null, " " + (r.owner_id ? "(mine) " : "") + fill(r.content, s.conv || c)));
        li.addEventListener("mousedown", function (ev) { ev.preventDefault(); choose(r); });
        list.appendChild(li);
      });
      list.hidden = false;
      input.setAttribute("aria-expanded", "true");
      if (shown.length) input.setAttribute("aria-activedescendant", "canned-" + at); else input.removeAttribute("aria-activedescendant");
    }
    input.addEventListener("input", draw);
    input.addEventListener("blur", function () { setTimeout(close, 150); });
    return {
      list: list,
      // True when the key was the picker's.
      key: function (ev) {
        if (list.hidden) return false;
        if (ev.key === "Escape") { ev.preventDefault(); close(); return true; }
        if (!shown.length) return false;
        if (ev.key === "ArrowDown" || ev.key === "ArrowUp") {
          ev.preventDefault();
          at = (at + (ev.key === "ArrowDown" ? 1 : shown.length - 1)) % shown.length;
          draw(); return true;
        }
        if (ev.key === "Enter" || ev.key === "Tab") { ev.preventDefault(); choose(shown[at]); return true; }
        return false;
      }
    };
  }
  // The agent's own responses, in a dialog from the header.
  function drawMyResponses() {
    var ul = $("my-responses"); if (!ul) return;
    ul.textContent = "";
    var mine = s.canned.filter(function (r) { return r.owner_id === s.me.id; });
    if (!mine.length) ul.appendChild(el("li", { "class": "typing" }, "None yet."));
    mine.forEach(function (r) {
      var li = el("li");
      li.appendChild(el("strong", null, "/" + r.shortcode));
      li.appendChild(el("span", null, " " + r.content));
      li.appendChild(button("Delete", { "class": "button minor small", "aria-label": "Delete /" + r.shortcode }, function () {
        api("DELETE", "/api/projects/" + s.project.id + "/canned-responses/" + r.id).then(loadCanned)
          .catch(function (e) { showError("responses-err", e); });
      }));
      ul.appendChild(li);
    });
    var shared = s.canned.length - mine.length;
    $("team-responses").textContent = shared ? "Also " + shared + " of the team's (managed by admins in /admin)." : "";
  }
  $("responses-open").addEventListener("click", function () { showError("responses-err", null); $("responses").showModal(); $("response-shortcode").focus(); });
  $("responses-close").addEventListener("click", function () { $("responses").close(); });
  $("response-form").addEventListener("submit", function (ev) {
    ev.preventDefault();
    showError("responses-err", null);
    api("POST", "/api/projects/" + s.project.id + "/canned-responses", { shortcode: $("response-shortcode").value, content: $("response-content").value })
      .then(function () { $("response-shortcode").value = ""; $("response-content").value = ""; return loadCanned(); })
      .then(function () { $("response-shortcode").focus(); })
      .catch(function (e) { showError("responses-err", e); });
  });

  // ------------------------------------------------------------ context
  function context(c) {
    var ctx = $("ctx"); ctx.textContent = "";
    ctx.appendChild(el("h2", null, "Customer"));
    var cu = c.customer || {};
    // A customer's email is an identity only when proven (user_hash or a
    // code); an email typed in this chat is contact information, shown as such.
    ctx.appendChild(el("p", null, cu.email ? (cu.name ? cu.name + " · " : "") + cu.email + (cu.customer_email_verified ? " (identified)" : " (unverified)") : "Anonymous visitor " + (c.visitor_id || "").slice(0, 12)));
    if (c.customer_email && !c.customer_email_verified && c.customer_email !== cu.email) {
      ctx.appendChild(el("p", { id: "contact-email" }, "Gave the email " + c.customer_email + " in this chat (unverified)"));
    }
    // The customer's AI sessions, tool calls and support tickets (seed 002).
    var who = cu.email || c.visitor_id;
    if (who) ctx.appendChild(el("p", null)).appendChild(el("a", { id: "activity-link", href: "/explorer?project=" + encodeURIComponent(c.project_id) + "&user=" + encodeURIComponent(who) }, "Activity"));
    if (cu.is_flagged) ctx.appendChild(el("p", { "class": "flag", id: "flag" }, "⚑ Flagged: " + (cu.flag_reason || "no reason given")));
    if (cu.id) customerTools(ctx, c, cu);
    var dl = el("dl");
    [["First seen", cu.first_seen_at && cu.first_seen_at.slice(0, 10)], ["Total chats", cu.total_conversations], ["Page", cu.last_page_url],
     ["Device", cu.last_device], ["Browser", [cu.last_browser, cu.last_os].filter(Boolean).join(" / ")]].forEach(function (r) {
      if (r[1] == null || r[1] === "") return;
      dl.appendChild(el("dt", null, r[0])); dl.appendChild(el("dd", null, String(r[1])));
    });
    ctx.appendChild(dl);
    var ai = c.ai_context || {};
    ctx.appendChild(el("h2", null, "AI context"));
    ctx.appendChild(el("p", null, "Handoff: " + (ai.handoff_reason || "–") + (ai.trigger_keyword ? " (\"" + ai.trigger_keyword + "\")" : "") +
      " · AI messages: " + (ai.ai_messages_before_handoff || 0) +
      (ai.ai_confidence_at_handoff != null ? " · confidence " + Math.round(ai.ai_confidence_at_handoff * 100) + "%" : "")));
    if (!cu.id) return;
    ctx.appendChild(el("h2", { id: "history-h" }, "History"));
    var ul = el("ul", { "class": "history", id: "history", "aria-labelledby": "history-h" });
    ctx.appendChild(ul);
    var more = el("div");
    ctx.appendChild(more);
    // The whole history once asked for ("View all"), else the recent few.
    var full = s.history && s.history.customer === cu.id ? s.history : null;
    drawHistory(ul, full ? full.items : (cu.recent_conversations || []));
    if (full) { if (full.next) more.appendChild(button("Load more", { "class": "button minor", id: "history-more" }, function () { pageHistory(cu.id, true); })); }
    else more.appendChild(button("View all", { "class": "button minor", id: "history-all" }, function () { s.history = null; pageHistory(cu.id, false); }));
  }
  // Seed 003 5.11.6: flag the customer with a reason (or unflag), and the
  // team's notes about them, kept on the customer across conversations.
  function customerTools(ctx, c, cu) {
    var path = "/api/projects/" + c.project_id + "/customers/" + cu.id;
    var status = el("p", { "class": "typing", id: "customer-saved", role: "status" });
    function save(body, said) {
      showError("ctx-err", null);
      return api("PATCH", path, body).then(function () {
        status.textContent = said;
        return api("GET", "/api/conversations/" + c.id);
      }).then(function (v) { if (s.open === c.id) { s.conv = v; context(v); $("customer-saved").textContent = said; } })
        .catch(function (e) { showError("ctx-err", e); });
    }
    var flag = el("div", { "class": "flagging" });
    if (cu.is_flagged) {
      flag.appendChild(button("Unflag", { "class": "button minor small", id: "unflag" }, function () { save({ is_flagged: false, flag_reason: null }, "Flag removed."); }));
    } else {
      var form = el("form", { id: "flag-form", hidden: "" });
      form.appendChild(el("label", { "for": "flag-reason" }, "Why?"));
      form.appendChild(el("input", { id: "flag-reason", type: "text", maxlength: "200", autocomplete: "off" }));
      form.appendChild(el("button", { type: "submit", "class": "button minor small" }, "Flag"));
      form.addEventListener("submit", function (ev) {
        ev.preventDefault();
        save({ is_flagged: true, flag_reason: $("flag-reason").value }, "Customer flagged.");
      });
      flag.appendChild(button("Flag…", { "class": "button minor small", id: "flag-ask" }, function () { form.hidden = false; $("flag-reason").focus(); }));
      flag.appendChild(form);
    }
    ctx.appendChild(flag);
    ctx.appendChild(el("label", { "for": "customer-notes", "class": "notes-label" }, "Notes about this customer (the team's only)"));
    var notes = el("textarea", { id: "customer-notes", rows: "3", maxlength: "5000" });
    notes.value = cu.internal_notes || "";
    ctx.appendChild(notes);
    ctx.appendChild(button("Save notes", { "class": "button minor small", id: "notes-save" }, function () { save({ internal_notes: notes.value }, "Notes saved."); }));
    ctx.appendChild(el("div", { "class": "err", id: "ctx-err", role: "alert" }));
    ctx.appendChild(status);
  }
  function drawHistory(ul, items) {
    if (!items.length) ul.appendChild(el("li", { "class": "typing" }, "No conversations yet."));
    items.forEach(function (h) {
      var li = el("li");
      var b = button((h.created_at || "").slice(0, 10) + " · " + h.status.replace("_", " ") + (h.preview ? " · " + h.preview : ""), { "data-id": h.id },
        function () { openConversation(h.id, true); });
      if (h.id === s.open) b.setAttribute("aria-current", "true");
      li.appendChild(b); ul.appendChild(li);
    });
  }
  function pageHistory(customer, more) {
    var h = s.history && s.history.customer === customer ? s.history : { customer: customer, items: [], next: null };
    var q = "/api/projects/" + s.project.id + "/customers/" + customer + "/conversations?limit=20" + (more && h.next ? "&cursor=" + encodeURIComponent(h.next) : "");
    api("GET", q).then(function (r) {
      var first = h.items.length;
      h.items = h.items.concat(r.items); h.next = r.next_cursor; s.history = h;
      if (s.conv) context(s.conv);
      // Keep the keyboard in the list: on the first new item.
      var b = document.querySelectorAll("#history button")[first];
      if (b) b.focus();
    }).catch(function (e) { showError("view-err", e); });
  }

  Staff.login(start);
})();
