/* The activity explorer (seed 002): one user's sessions, the AI tool calls
   and support tickets of a session, and one item in full. Three panes on
   a desktop, two on a tablet, one at a time on a phone. Public contract
   only (docs/protocol.md "Activity explorer"); the address is
   /explorer?project=<id>&user=<user id>. Data is only ever written as
   text (textContent), never as HTML. */
(function () {
  "use strict";
  var el = Staff.el, api = Staff.api;
  var $ = function (id) { return document.getElementById(id); };
  var PANES = ["p-sessions", "p-session", "p-item"];
  var VIEWS = ["sessions", "session", "item"];
  var tablet = window.matchMedia("(max-width: 1199px)");
  var phone = window.matchMedia("(max-width: 767px)");
  var params = new URLSearchParams(location.search);
  var s = {
    projects: [],
    project: params.get("project") || "", user: params.get("user") || "",
    // Each pane's list and what it was asked for; `gen` drops late answers.
    sessions: { items: [], next: null, gen: 0 }, q: "",
    session: null, tools: { items: [], next: null, gen: 0 }, tickets: { items: [], next: null, gen: 0 },
    item: null, itemGen: 0, searchTimer: null
  };




  function userBase() {
    return "/api/projects/" + encodeURIComponent(s.project) + "/users/" + encodeURIComponent(s.user);
  }
  function plural(n, one, many) { return n + " " + (n === 1 ? one : many); }
  function when(iso) { return iso ? new Date(iso).toLocaleString() : ""; }
  function rel(iso) {
    var secs = Math.round((Date.now() - new Date(iso).getTime()) / 1000);
    if (!isFinite(secs) || secs < -60) return when(iso);
    if (secs < 60) return "just now";
    if (secs < 3600) return Math.floor(secs / 60) + " min ago";
    if (secs < 86400) return Math.floor(secs / 3600) + " h ago";
    if (secs < 30 * 86400) return plural(Math.floor(secs / 86400), "day", "days") + " ago";
    return new Date(iso).toLocaleDateString();
  }
  function timeEl(iso) { var t = el("time", { datetime: iso, title: when(iso) }, rel(iso)); return t; }
  function size(bytes) {
    if (bytes < 1024) return bytes + " B";
    if (bytes < 1024 * 1024) return (bytes / 1024).toFixed(1) + " KB";
    return (bytes / 1024 / 1024).toFixed(1) + " MB";
  }
  function sessionName(x) { return x.title || x.server_name; }

  /* A pane part's state line: loading, or the error with Retry. */
  function loading(box) { box.textContent = "Loading…"; }
  function failed(box, e, retry) {
    box.textContent = "";
    box.appendChild(el("span", { "class": "err", role: "alert" }, e.message || "Something went wrong."));
    var b = el("button", { type: "button", "class": "button ghost small" }, "Retry");
    b.addEventListener("click", retry);
    box.appendChild(b);
  }
  function settled(box) { box.textContent = ""; }

  // ------------------------------------------------------------ login
  function start() {
    api("GET", "/api/auth/me").then(function (r) {
      $("login").hidden = true; $("logout").hidden = false;
      $("me").textContent = r.user.name;
      s.projects = r.projects;
      var pick = $("project"); pick.textContent = "";
      r.projects.forEach(function (p) { pick.appendChild(el("option", { value: p.id }, p.name)); });
      if (s.project && s.user) open(); else choose();
    }).catch(function (e) {
      Staff.forget();
      $("login").hidden = false; $("login-err").textContent = e.status === 401 ? "" : e.message;
    });
  }

  // ------------------------------------------------------------ choosing a user
  function choose() {
    $("view").hidden = true; $("pick").hidden = false;
    if (!s.projects.length) $("pick-err").textContent = "You are not a member of any project.";
    if (s.project) $("project").value = s.project;
    $("user").value = s.user;
    $("user").focus();
  }
  $("pick").addEventListener("submit", function (ev) {
    ev.preventDefault();
    s.project = $("project").value; s.user = $("user").value.trim();
    if (!s.project || !s.user) return;
    history.pushState(null, "", "/explorer?project=" + encodeURIComponent(s.project) + "&user=" + encodeURIComponent(s.user));
    open();
  });
  $("change").addEventListener("click", choose);
  window.addEventListener("popstate", function () {
    var p = new URLSearchParams(location.search);
    s.project = p.get("project") || ""; s.user = p.get("user") || "";
    if (s.project && s.user) open(); else choose();
  });

  function open() {
    $("pick").hidden = true; $("view").hidden = false;
    var project = s.projects.filter(function (p) { return p.id === s.project; })[0];
    $("who").textContent = "Activity of " + s.user + (project && s.projects.length > 1 ? " in " + project.name : "");
    document.title = "Activity of " + s.user + " · Switchboard";
    $("q").value = ""; s.q = "";
    closeSession();
    show("sessions");
    loadSessions(true);
  }

  // ------------------------------------------------------------ narrow screens
  /* Which pane a phone shows (a tablet shows the sessions beside the
     session or the item). */
  function show(view) { $("explorer").setAttribute("data-view", view); }
  function back() {
    var v = $("explorer").getAttribute("data-view");
    if (v === "item") { show("session"); focusPane(1); }
    else if (v === "session") { if (phone.matches) show("sessions"); focusPane(0); }
  }
  $("back-sessions").addEventListener("click", back);
  $("back-session").addEventListener("click", back);

  // ------------------------------------------------------------ sessions
  $("q").addEventListener("input", search);
  $("q").addEventListener("change", search);
  function search() {
    clearTimeout(s.searchTimer);
    s.searchTimer = setTimeout(function () {
      var q = $("q").value.trim();
      if (q === s.q) return;
      s.q = q; loadSessions(true);
    }, 300);
  }
  $("sessions-more").addEventListener("click", function () { loadSessions(false); });

  function loadSessions(fresh) {
    var st = s.sessions, gen = ++st.gen;
    loading($("sessions-state"));
    if (fresh) { st.items = []; st.next = null; drawSessions(); }
    $("sessions-more").hidden = true;
    var url = userBase() + "/sessions?limit=20" + (s.q ? "&q=" + encodeURIComponent(s.q) : "") +
      (!fresh && st.next ? "&cursor=" + encodeURIComponent(st.next) : "");
    api("GET", url).then(function (r) {
      if (gen !== st.gen) return;
      settled($("sessions-state"));
      st.items = st.items.concat(r.items); st.next = r.next_cursor;
      drawSessions();
    }).catch(function (e) {
      if (gen !== st.gen) return;
      failed($("sessions-state"), e, function () { loadSessions(fresh); });
      $("sessions-more").hidden = !st.next;
    });
  }
  function drawSessions() {
    var st = s.sessions, ul = $("sessions");
    ul.textContent = "";
    $("sessions-h").textContent = "Sessions (" + st.items.length + " shown)";
    $("sessions-more").hidden = !st.next;
    if (!st.items.length && !$("sessions-state").textContent) {
      ul.appendChild(el("li", { "class": "empty" }, s.q ? "No sessions match “" + s.q + "”." : "No sessions recorded for this user yet."));
    }
    st.items.forEach(function (x) {
      var b = el("button", { type: "button", "class": "item", "data-id": x.id });
      b.appendChild(el("span", { "class": "t" }, sessionName(x)));
      var row = el("span", { "class": "row" });
      row.appendChild(el("span", null, x.server_name));
      row.appendChild(timeEl(x.connected_at));
      b.appendChild(row);
      var counts = el("span", { "class": "row" });
      counts.appendChild(el("span", { "class": "n-tools" }, plural(x.tool_call_count, "tool call", "tool calls")));
      counts.appendChild(el("span", { "class": "n-tickets" }, plural(x.support_ticket_count, "support ticket", "support tickets")));
      b.appendChild(counts);
      if (s.session && s.session.id === x.id) b.setAttribute("aria-current", "true");
      b.addEventListener("click", function () { openSession(x); });
      var li = el("li"); li.appendChild(b); ul.appendChild(li);
    });
  }

  // ------------------------------------------------------------ export
  $("export-csv").addEventListener("click", function () { exportAs("csv"); });
  $("export-json").addEventListener("click", function () { exportAs("json"); });
  /* The export needs the staff token, so a plain link would not do: fetch
     it, then hand the browser the file. */
  function exportAs(format) {
    var box = $("export-state"), name = "activity-" + s.user.replace(/[^A-Za-z0-9._@-]/g, "_") + "." + format;
    box.textContent = "Preparing " + format.toUpperCase() + "…";
    var url = userBase() + "/sessions/export?format=" + format + (s.q ? "&q=" + encodeURIComponent(s.q) : "");
    fetch(url, { headers: Staff.headers() }).then(function (r) {
      if (!r.ok) return r.json().catch(function () { return {}; }).then(function (j) { throw new Error(j.message || "Export failed (" + r.status + ")"); });
      return r.blob();
    }).then(function (blob) {
      var href = URL.createObjectURL(blob);
      var a = el("a", { href: href, download: name });
      document.body.appendChild(a); a.click(); a.remove();
      setTimeout(function () { URL.revokeObjectURL(href); }, 10000);
      box.textContent = "Downloaded " + name;
    }).catch(function (e) { box.textContent = e.message; });
  }

  // ------------------------------------------------------------ a session
  function closeSession() {
    s.session = null; s.item = null; s.itemGen++;
    s.tools.gen++; s.tickets.gen++;
    $("session-h").textContent = "Session";
    $("session-empty").hidden = false; $("session-body").hidden = true;
    clearItem();
  }
  function openSession(x) {
    s.session = x; s.item = null; s.itemGen++;
    clearItem();
    Array.prototype.forEach.call(document.querySelectorAll("#sessions .item"), function (b) {
      if (b.getAttribute("data-id") === x.id) b.setAttribute("aria-current", "true"); else b.removeAttribute("aria-current");
    });
    $("session-h").textContent = sessionName(x);
    $("session-meta").textContent = "";
    $("session-meta").appendChild(document.createTextNode(x.server_name + " · connected "));
    $("session-meta").appendChild(el("time", { datetime: x.connected_at }, when(x.connected_at)));
    $("session-empty").hidden = true; $("session-body").hidden = false;
    $("tools-h").textContent = "Tool calls (" + x.tool_call_count + ")";
    $("tickets-h").textContent = "Support tickets (" + x.support_ticket_count + ")";
    show("session");
    loadItems("tools", true); loadItems("tickets", true);
    if (phone.matches) $("session-h").focus();
  }
  var LISTS = {
    tools: { path: "tool-calls", empty: "No tool calls in this session.", draw: toolItem },
    tickets: { path: "support-requests", empty: "No support tickets from this session.", draw: ticketItem }
  };
  $("tools-more").addEventListener("click", function () { loadItems("tools", false); });
  $("tickets-more").addEventListener("click", function () { loadItems("tickets", false); });
  function loadItems(kind, fresh) {
    var st = s[kind], gen = ++st.gen, sess = s.session;
    if (fresh) { st.items = []; st.next = null; $(kind).textContent = ""; }
    loading($(kind + "-state"));
    $(kind + "-more").hidden = true;
    var url = "/api/activity/sessions/" + sess.id + "/" + LISTS[kind].path + "?limit=20" +
      (!fresh && st.next ? "&cursor=" + encodeURIComponent(st.next) : "");
    api("GET", url).then(function (r) {
      if (gen !== st.gen) return;
      settled($(kind + "-state"));
      st.items = st.items.concat(r.items); st.next = r.next_cursor;
      drawItems(kind);
    }).catch(function (e) {
      if (gen !== st.gen) return;
      failed($(kind + "-state"), e, function () { loadItems(kind, fresh); });
      $(kind + "-more").hidden = !st.next;
    });
  }
  function drawItems(kind) {
    var st = s[kind], ul = $(kind);
    ul.textContent = "";
    if (!st.items.length) ul.appendChild(el("li", { "class": "empty" }, LISTS[kind].empty));
    st.items.forEach(function (x) {
      var b = LISTS[kind].draw(x);
      b.setAttribute("data-id", x.id);
      if (s.item && s.item.id === x.id) b.setAttribute("aria-current", "true");
      var li = el("li"); li.appendChild(b); ul.appendChild(li);
    });
    $(kind + "-more").hidden = !st.next;
  }
  function toolItem(t) {
    var b = el("button", { type: "button", "class": "item" });
    b.appendChild(el("span", { "class": "t" }, t.tool_name));
    var row = el("span", { "class": "row" });
    row.appendChild(timeEl(t.created_at));
    row.appendChild(el("span", { title: "Input " + size(t.input_bytes) + ", output " + size(t.output_bytes) },
      size(t.input_bytes + t.output_bytes) + " of JSON"));
    b.appendChild(row);
    b.addEventListener("click", function () { openItem("tool", t.id); });
    return b;
  }
  function ticketItem(r) {
    var b = el("button", { type: "button", "class": "item" });
    b.appendChild(el("span", { "class": "t" }, r.title));
    var row = el("span", { "class": "row" });
    row.appendChild(el("span", { "class": "badge " + r.status }, r.status));
    row.appendChild(timeEl(r.created_at));
    b.appendChild(row);
    b.addEventListener("click", function () { openItem("ticket", r.id); });
    return b;
  }

  // ------------------------------------------------------------ one item
  function clearItem() {
    $("item-h").textContent = "Details";
    $("item").textContent = ""; settled($("item-state"));
    $("item-empty").hidden = false;
    markItems();
    if ($("explorer").getAttribute("data-view") === "item") show("session");
  }
  function markItems() {
    Array.prototype.forEach.call(document.querySelectorAll("#tools .item, #tickets .item"), function (b) {
      if (s.item && b.getAttribute("data-id") === s.item.id) b.setAttribute("aria-current", "true"); else b.removeAttribute("aria-current");
    });
  }
  function openItem(kind, id) {
    var gen = ++s.itemGen;
    s.item = { kind: kind, id: id };
    markItems();
    $("item").textContent = ""; $("item-empty").hidden = true;
    $("item-h").textContent = kind === "tool" ? "Tool call" : "Support ticket";
    show("item");
    if (tablet.matches) $("item-h").focus();
    loading($("item-state"));
    api("GET", (kind === "tool" ? "/api/tool-calls/" : "/api/support-requests/") + id).then(function (x) {
      if (gen !== s.itemGen) return;
      settled($("item-state"));
      if (kind === "tool") drawTool(x); else drawTicket(x);
    }).catch(function (e) {
      if (gen !== s.itemGen) return;
      failed($("item-state"), e, function () { openItem(kind, id); });
    });
  }
  function field(dl, name, value) {
    dl.appendChild(el("dt", null, name));
    var dd = el("dd"); if (value instanceof Node) dd.appendChild(value); else dd.textContent = value; dl.appendChild(dd);
  }
  function json(v) { return v === undefined ? "null" : JSON.stringify(v, null, 2); }
  function drawTool(t) {
    var box = $("item"); box.textContent = "";
    $("item-h").textContent = t.tool_name;
    var dl = el("dl", { "class": "meta" });
    field(dl, "Tool call", t.tool_name);
    field(dl, "Called", when(t.created_at));
    box.appendChild(dl);
    box.appendChild(el("h3", { id: "input-h" }, "Input"));
    box.appendChild(el("pre", { id: "item-input", "aria-labelledby": "input-h", tabindex: "0" }, json(t.input)));
    box.appendChild(el("h3", { id: "output-h" }, "Output"));
    box.appendChild(el("pre", { id: "item-output", "aria-labelledby": "output-h", tabindex: "0" }, json(t.output)));
  }
  function drawTicket(r) {
    var box = $("item"); box.textContent = "";
    $("item-h").textContent = r.title;
    var dl = el("dl", { "class": "meta" });
    field(dl, "Status", el("span", { "class": "badge " + r.status, id: "item-status" }, r.status));
    field(dl, "Raised", when(r.created_at));
    if (r.resolved_at) field(dl, "Resolved", when(r.resolved_at));
    box.appendChild(dl);
    var resolved = r.status === "resolved";
    var b = el("button", { type: "button", "class": "button small" + (resolved ? " ghost" : ""), id: "resolve" }, resolved ? "Reopen" : "Mark resolved");
    var err = el("div", { "class": "err", role: "alert" });
    b.addEventListener("click", function () {
      b.disabled = true; err.textContent = "";
      var gen = s.itemGen;
      api("PATCH", "/api/support-requests/" + r.id, { status: resolved ? "open" : "resolved" }).then(function (u) {
        // The list shows the new status too.
        s.tickets.items = s.tickets.items.map(function (x) { return x.id === u.id ? u : x; });
        drawItems("tickets");
        if (gen === s.itemGen) { drawTicket(u); $("resolve").focus(); }
      }).catch(function (e) { b.disabled = false; err.textContent = e.message; });
    });
    box.appendChild(b); box.appendChild(err);
    box.appendChild(el("h3", null, "Summary"));
    box.appendChild(el("p", { style: "margin:0;overflow-wrap:anywhere" }, r.concise_summary || "No summary."));
    box.appendChild(el("h3", null, "Context"));
    if (r.context) box.appendChild(el("pre", { "class": "wrap", id: "item-context", tabindex: "0" }, r.context));
    else box.appendChild(el("p", { "class": "muted", style: "margin:0" }, "No context."));
  }

  // ------------------------------------------------------------ keyboard
  function paneOf(node) {
    for (var i = 0; i < PANES.length; i++) if ($(PANES[i]).contains(node)) return i;
    return -1;
  }
  /* Focus a pane: its selected item, else its first item, else its
     heading; on narrow screens the pane is shown first. */
  function focusPane(i) {
    if (i < 0 || i > 2) return;
    if (i === 1 && !s.session) return;
    if (i === 2 && !s.item) return;
    if (tablet.matches) {
      if (phone.matches || i > 0) show(VIEWS[i]);
    }
    var pane = $(PANES[i]);
    var target = pane.querySelector(".item[aria-current=true]") || (i < 2 ? pane.querySelector(".item") : null) || pane.querySelector("h2");
    target.focus();
  }
  document.addEventListener("keydown", function (ev) {
    if ($("view").hidden) return;
    var t = ev.target, inField = /^(INPUT|TEXTAREA|SELECT)$/.test(t.tagName);
    var pane = paneOf(t);
    if (ev.key === "Escape") {
      if (tablet.matches && $("explorer").getAttribute("data-view") !== "sessions") { ev.preventDefault(); back(); }
      return;
    }
    if ((ev.key === "ArrowRight" || ev.key === "ArrowLeft") && (ev.altKey || !inField) && !ev.ctrlKey && !ev.metaKey) {
      if (pane < 0 || (!ev.altKey && t.tagName === "PRE")) return;
      var to = pane + (ev.key === "ArrowRight" ? 1 : -1);
      if (to < 0 || to > 2) return;
      ev.preventDefault(); focusPane(to);
      return;
    }
    if ((ev.key === "ArrowDown" || ev.key === "ArrowUp" || ev.key === "Home" || ev.key === "End") && t.classList && t.classList.contains("item")) {
      var items = Array.prototype.slice.call($(PANES[pane]).querySelectorAll(".item"));
      var at = items.indexOf(t);
      var next = ev.key === "Home" ? 0 : ev.key === "End" ? items.length - 1 : at + (ev.key === "ArrowDown" ? 1 : -1);
      if (next >= 0 && next < items.length) { ev.preventDefault(); items[next].focus(); }
    }
  });

  Staff.login(start);
  if (!Staff.token()) $("login").hidden = false;
})();
