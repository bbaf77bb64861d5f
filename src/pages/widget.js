/* Switchboard's chat widget (seed 003 5.6, 5.11, 5.12). Embed with
     <script src="https://<server>/widget.js" data-project-key="pk_..."></script>
   It speaks only the public contract: REST with the project key, then the
   customer token over REST and one WebSocket. No build step, no framework. */
(function () {
  "use strict";
  var script = document.currentScript;
  if (!script) return;
  var KEY = script.getAttribute("data-project-key");
  if (!KEY) { console.error("switchboard widget: data-project-key is missing"); return; }
  var BASE = new URL(script.src, location.href).origin;
  var STORE = "sb_" + KEY + "_";
  var IDLE_AFTER = 2 * 60 * 1000;   // 5.12.3: idle after 2 minutes without activity
  var HEARTBEAT = 10 * 1000;        // 5.12.3: a presence heartbeat every 10 s
  var TYPING_STOP = 3000;           // 5.12.10: typing ends after 3 s

  var state = {
    conv: null, token: null, ws: null, lastSeq: 0, seen: {}, pending: {},
    availability: null, backoff: 1000, lastActivity: Date.now(), typing: false,
    typingTimer: null, refs: 0, waiters: {}, opened: false, status: null, projectId: null
  };

  // ------------------------------------------------------------ storage
  function get(k) { try { return localStorage.getItem(STORE + k); } catch (e) { return null; } }
  function put(k, v) { try { localStorage.setItem(STORE + k, v); } catch (e) { /* private mode */ } }
  function del(k) { try { localStorage.removeItem(STORE + k); } catch (e) { /* private mode */ } }
  // Message ids for idempotent sends (client_msg_id); not an identity.
  function uuid() {
    if (window.crypto && crypto.randomUUID) return crypto.randomUUID();
    return "xxxxxxxx-xxxx-4xxx-yxxx-xxxxxxxxxxxx".replace(/[xy]/g, function (c) {
      var r = Math.random() * 16 | 0; return (c === "x" ? r : (r & 3 | 8)).toString(16);
    });
  }
  // The visitor is who the server said it is: the id and secret it issued
  // on the first conversation (a visitor id alone opens nothing). Without
  // both, the server makes a new visitor.
  function visitor() {
    var id = get("visitor"), secret = get("visitor_secret");
    return id && secret ? { visitor_id: id, visitor_secret: secret } : {};
  }
  // The server takes only short, plain text in the visit's context.
  function clean(v, max) {
    return v == null ? null : String(v).replace(/[\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F-\u009F\u202A-\u202E\u2066-\u2069]/g, "").slice(0, max);
  }
  function context() {
    var ua = navigator.userAgent;
    return {
      browser: /Edg\//.test(ua) ? "Edge" : /Chrome/.test(ua) ? "Chrome" : /Firefox/.test(ua) ? "Firefox" : /Safari/.test(ua) ? "Safari" : "Other",
      device: /Tablet|iPad/i.test(ua) ? "Tablet" : /Mobile|Android|iPhone/i.test(ua) ? "Mobile" : "Desktop",
      os: /Windows/.test(ua) ? "Windows" : /iPhone|iPad|iOS/.test(ua) ? "iOS" : /Android/.test(ua) ? "Android" : /Mac/.test(ua) ? "macOS" : /Linux/.test(ua) ? "Linux" : "Other",
      page_url: clean(location.href, 2048), page_title: clean(document.title, 500), referrer: clean(document.referrer || null, 2048),
      timezone: clean(Intl.DateTimeFormat().resolvedOptions().timeZone, 100), language: clean(navigator.language, 100),
      screen_resolution: clean(screen.width + "x" + screen.height, 50)
    };
  }

  // ------------------------------------------------------------ HTTP
  function api(method, path, body, auth) {
    var headers = { "content-type": "application/json" };
    if (auth === "key") headers["x-project-key"] = KEY; else if (state.token) headers.authorization = "Bearer " + state.token;
    return fetch(BASE + path, { method: method, headers: headers, body: body ? JSON.stringify(body) : undefined })
      .then(function (r) {
        if (r.status === 204) return {};
        return r.json().then(function (j) {
          if (!r.ok) { var e = new Error(j.message || r.statusText); e.code = j.error; e.fields = j.fields; throw e; }
          return j;
        });
      });
  }

  // ------------------------------------------------------------ DOM
  var css = "" +
    ".sbw{position:fixed;right:20px;bottom:20px;z-index:2147483000;font:15px/1.45 system-ui,-apple-system,'Segoe UI',Roboto,sans-serif;color:#1d2330}" +
    ".sbw *{box-sizing:border-box}.sbw button{font:inherit;cursor:pointer;min-height:40px;border-radius:8px}" +
    ".sbw :focus-visible{outline:3px solid #f0a500;outline-offset:2px}" +
    ".sbw-launch{background:var(--sbw-accent,#2457c5);color:#fff;border:0;padding:.7rem 1.1rem;border-radius:999px;box-shadow:0 4px 16px rgba(0,0,0,.2)}" +
    ".sbw-panel{display:none;flex-direction:column;width:370px;height:560px;max-height:calc(100vh - 40px);background:#fff;border:1px solid #d8dde6;border-radius:14px;box-shadow:0 10px 40px rgba(0,0,0,.25);overflow:hidden}" +
    ".sbw-face{border-radius:50%;object-fit:cover;margin-right:.5rem}" +
    ".sbw.open .sbw-panel{display:flex}.sbw.open .sbw-launch{display:none}" +
    ".sbw-head{background:#1d2330;color:#fff;padding:.7rem 1rem;display:flex;align-items:center;gap:.5rem}.sbw-head h2{font-size:1rem;margin:0;flex:1}" +
    ".sbw-head button{background:transparent;color:#fff;border:1px solid #8892a6;min-height:32px;padding:0 .6rem}" +
    ".sbw-status{font-size:.85rem;padding:.4rem 1rem;background:#eef2fb;color:#33405a;min-height:1.8rem}" +
    ".sbw-log{flex:1;overflow-y:auto;padding:.75rem;display:flex;flex-direction:column;gap:.45rem;background:#f7f8fb}" +
    ".sbw-msg{max-width:85%;padding:.5rem .75rem;border-radius:12px;white-space:pre-wrap;word-wrap:break-word}" +
    ".sbw-msg.customer{align-self:flex-end;background:var(--sbw-accent,#2457c5);color:#fff}.sbw-msg.ai,.sbw-msg.agent{align-self:flex-start;background:#fff;border:1px solid #d8dde6}" +
    ".sbw-msg.agent{border-color:var(--sbw-accent,#2457c5)}.sbw-msg.system{align-self:center;background:transparent;color:#556070;font-size:.85rem;text-align:center}" +
    ".sbw-msg.pending{opacity:.6}.sbw-who{display:block;font-size:.75rem;color:#556070}" +
    ".sbw-typing{font-size:.85rem;color:#556070;padding:0 1rem;min-height:1.3rem}" +
    ".sbw-human{margin:.4rem 1rem;background:#fff;color:var(--sbw-accent,#2457c5);border:1px solid var(--sbw-accent,#2457c5)}" +
    ".sbw-form{display:flex;gap:.5rem;padding:.6rem;border-top:1px solid #d8dde6}.sbw-form textarea{flex:1;resize:none;height:44px;padding:.55rem;border:1px solid #b7bfcc;border-radius:8px;font:inherit}" +
    ".sbw-form button,.sbw-card button.primary{background:var(--sbw-accent,#2457c5);color:#fff;border:0;padding:0 1rem}" +
    ".sbw-card{margin:.5rem 1rem;padding:.75rem;border:1px solid #d8dde6;border-radius:10px;background:#fff;display:flex;flex-direction:column;gap:.45rem}" +
    ".sbw-card label{font-size:.85rem;display:flex;flex-direction:column;gap:.2rem}.sbw-card input,.sbw-card textarea{font:inherit;padding:.45rem;border:1px solid #b7bfcc;border-radius:6px}" +
    ".sbw-stars{display:flex;gap:.3rem}.sbw-stars button{flex:1;background:#fff;border:1px solid #b7bfcc}.sbw-stars button[aria-pressed=true]{background:#f0a500;border-color:#f0a500}" +
    ".sbw-err{color:#b00020;font-size:.85rem}.sbw[hidden]{display:none}" +
    "@media (max-width:600px){.sbw.open{inset:0;right:0;bottom:0}.sbw.open .sbw-panel{width:100vw;height:100vh;max-height:none;border-radius:0}}";

  function el(tag, attrs, text) {
    var e = document.createElement(tag);
    for (var k in attrs || {}) e.setAttribute(k, attrs[k]);
    if (text != null) e.textContent = text;
    return e;
  }

  var style = el("style"); style.textContent = css; document.head.appendChild(style);
  var root = el("div", { "class": "sbw", id: "sb-widget" });
  var launch = el("button", { "class": "sbw-launch", type: "button", "aria-expanded": "false", "aria-controls": "sbw-panel" }, "Chat with us");
  var panel = el("section", { "class": "sbw-panel", id: "sbw-panel", role: "dialog", "aria-label": "Chat with support" });
  var head = el("div", { "class": "sbw-head" });
  var title = el("h2", null, "Support");
  var face = el("img", { "class": "sbw-face", alt: "", width: "28", height: "28", hidden: "" });
  var close = el("button", { type: "button", "aria-label": "Close the chat" }, "Close");
  head.appendChild(face); head.appendChild(title); head.appendChild(close);
  var status = el("div", { "class": "sbw-status", role: "status", "aria-live": "polite" }, "Connecting…");
  var log = el("div", { "class": "sbw-log", role: "log", "aria-live": "polite", "aria-label": "Messages" });
  var typingLine = el("div", { "class": "sbw-typing", "aria-live": "polite" });
  var human = el("button", { "class": "sbw-human", type: "button", hidden: "" }, "Talk to a human");
  var extra = el("div");
  var form = el("form", { "class": "sbw-form" });
  var input = el("textarea", { id: "sbw-input", "aria-label": "Your message", placeholder: "Type your message…", rows: "1", maxlength: "10000" });
  var send = el("button", { type: "submit" }, "Send");
  form.appendChild(input); form.appendChild(send);
  [head, status, log, typingLine, human, extra, form].forEach(function (n) { panel.appendChild(n); });
  root.appendChild(launch); root.appendChild(panel);
  document.body.appendChild(root);

  function setStatus(text) { status.textContent = text; }
  // The assigned agent's face in the header (an https address only).
  function showAgent(agent) {
    var url = agent && agent.avatar_url;
    if (url && /^https:\/\//.test(url)) { face.src = url; face.alt = agent.name || ""; face.hidden = false; }
    else { face.hidden = true; face.removeAttribute("src"); }
  }
  function scroll() { log.scrollTop = log.scrollHeight; }

  function render(m) {
    if (m.seq && state.seen[m.seq]) return;
    if (m.seq) { state.seen[m.seq] = true; if (m.seq > state.lastSeq) state.lastSeq = m.seq; }
    if (m.client_msg_id && state.pending[m.client_msg_id]) {
      var p = state.pending[m.client_msg_id]; delete state.pending[m.client_msg_id]; p.remove();
    }
    var div = el("div", { "class": "sbw-msg " + m.sender_type, "data-seq": m.seq || "" });
    if (m.sender_type === "ai" || m.sender_type === "agent") {
      div.appendChild(el("span", { "class": "sbw-who" }, m.sender_type === "ai" ? "AI assistant" : (state.agentName || "Agent")));
    }
    div.appendChild(document.createTextNode(m.content));
    // Keep the log in seq order even when a replay and live events interleave.
    var after = null;
    Array.prototype.forEach.call(log.querySelectorAll("[data-seq]"), function (n) {
      var s = +n.getAttribute("data-seq"); if (s && m.seq && s > m.seq && !after) after = n;
    });
    if (after) log.insertBefore(div, after); else log.appendChild(div);
    // The agent asked for an email (the dashboard's "Request email").
    if (m.sender_type === "agent" && m.metadata && m.metadata.request === "email" && get("emailed:" + state.conv) == null) emailForm(div);
    scroll();
  }

  // The customer's answer is contact information for the team (identify
  // without proof): it links nothing and is marked unverified.
  function emailForm(after) {
    var old = log.querySelector(".sbw-email"); if (old) old.remove();
    var card = el("form", { "class": "sbw-card sbw-email", "aria-label": "Your email" });
    var input = el("input", { type: "email", required: "", autocomplete: "email", name: "email" });
    var l = el("label", null, "Your email"); l.appendChild(input); card.appendChild(l);
    var err = el("div", { "class": "sbw-err", role: "alert" });
    card.appendChild(err);
    card.appendChild(el("button", { type: "submit", "class": "primary" }, "Send my email"));
    card.addEventListener("submit", function (ev) {
      ev.preventDefault(); err.textContent = "";
      api("POST", "/api/widget/identify", { email: input.value, name: null, user_hash: null }).then(function () {
        put("emailed:" + state.conv, "1");
        card.replaceWith(el("div", { "class": "sbw-msg system" }, "Thanks, we will write to " + input.value + "."));
      }).catch(function (e) { err.textContent = e.fields ? Object.values(e.fields).join(" ") : e.message; });
    });
    if (after.nextSibling) log.insertBefore(card, after.nextSibling); else log.appendChild(card);
  }

  // ------------------------------------------------------------ states
  function showHuman() {
    var a = state.availability;
    var can = a && a.available && a.show_button && state.status === "ai_active";
    if (can) human.removeAttribute("hidden"); else human.setAttribute("hidden", "");
    if (a && !a.available && a.show_offline_form && state.status === "ai_active" && !extra.querySelector(".sbw-offline")) offlineForm();
  }

  function onStatus(s, extraInfo) {
    state.status = s;
    if (s === "ai_active") setStatus("You are chatting with our AI assistant.");
    if (s === "waiting") {
      var q = extraInfo || {};
      setStatus(q.queue_position ? "You are number " + q.queue_position + " in line" +
        (q.estimated_wait_minutes ? " (about " + q.estimated_wait_minutes + " min)." : ".") : "Waiting for an agent…");
    }
    if (s === "agent_active") setStatus("You are chatting with " + (state.agentName || "an agent") + ".");
    if (s === "resolved") setStatus("This conversation was resolved.");
    if (s === "closed") { setStatus("This conversation is closed. Write again to start a new one."); del("conv"); del("token"); }
    showHuman();
  }

  function offlineForm() {
    var card = el("form", { "class": "sbw-card sbw-offline", "aria-label": "Leave us a message" });
    card.appendChild(el("strong", null, "We are offline right now. Leave your email and we will get back to you."));
    var email = el("input", { type: "email", required: "", autocomplete: "email", name: "email" });
    var name = el("input", { type: "text", autocomplete: "name", name: "name" });
    var msg = el("textarea", { required: "", name: "message", rows: "3" });
    [["Email", email], ["Name (optional)", name], ["Message", msg]].forEach(function (p) {
      var l = el("label", null, p[0]); l.appendChild(p[1]); card.appendChild(l);
    });
    var err = el("div", { "class": "sbw-err", role: "alert" });
    var go = el("button", { type: "submit", "class": "primary" }, "Send");
    card.appendChild(err); card.appendChild(go);
    card.addEventListener("submit", function (ev) {
      ev.preventDefault(); err.textContent = "";
      ensureConversation().then(function () {
        return api("POST", "/api/conversations/" + state.conv + "/offline-form",
          { email: email.value, name: name.value || null, message: msg.value });
      }).then(function (r) {
        card.remove(); setStatus(r.message); state.status = r.status;
      }).catch(function (e) { err.textContent = e.fields ? Object.values(e.fields).join(" ") : e.message; });
    });
    extra.appendChild(card);
  }

  function rating() {
    if (extra.querySelector(".sbw-rate")) return;
    var card = el("form", { "class": "sbw-card sbw-rate", "aria-label": "Rate this conversation" });
    card.appendChild(el("strong", null, "How did we do?"));
    var stars = el("div", { "class": "sbw-stars", role: "group", "aria-label": "Rating" });
    var chosen = 0;
    for (var i = 1; i <= 5; i++) (function (n) {
      var b = el("button", { type: "button", "aria-pressed": "false", "aria-label": n + " out of 5", "data-rating": n }, String(n));
      b.addEventListener("click", function () {
        chosen = n;
        Array.prototype.forEach.call(stars.children, function (c) { c.setAttribute("aria-pressed", String(+c.getAttribute("data-rating") <= n)); });
      });
      stars.appendChild(b);
    })(i);
    card.appendChild(stars);
    var fb = el("textarea", { rows: "2", name: "feedback", maxlength: "2000" });
    var l = el("label", null, "Anything to add? (optional)"); l.appendChild(fb); card.appendChild(l);
    var err = el("div", { "class": "sbw-err", role: "alert" });
    var go = el("button", { type: "submit", "class": "primary" }, "Send rating");
    card.appendChild(err); card.appendChild(go);
    card.addEventListener("submit", function (ev) {
      ev.preventDefault();
      if (!chosen) { err.textContent = "Choose a rating from 1 to 5."; return; }
      api("POST", "/api/conversations/" + state.conv + "/rating", { rating: chosen, feedback: fb.value || null })
        .then(function () { card.replaceWith(el("div", { "class": "sbw-card sbw-thanks", role: "status" }, "Thank you for your feedback!")); })
        .catch(function (e) { err.textContent = e.message; });
    });
    extra.appendChild(card);
  }

  // ------------------------------------------------------------ WebSocket
  function op(body) {
    if (!state.ws || state.ws.readyState !== 1) return Promise.reject(new Error("offline"));
    body.ref = "w" + (++state.refs);
    state.ws.send(JSON.stringify(body));
    return new Promise(function (resolve, reject) { state.waiters[body.ref] = { resolve: resolve, reject: reject }; });
  }

  // A replay comes in pages of at most 200 seqs: while the server answers
  // more, subscribe again from where the page stopped; then the socket is live.
  function subscribePages(channel, after, stillWanted) {
    return op({ op: "subscribe", channel: channel, after_seq: after }).then(function (d) {
      return d && d.more && stillWanted() ? subscribePages(channel, d.replayed_to, stillWanted) : d;
    });
  }

  function connect() {
    // The token goes in the first frame, not the URL: addresses end up in logs.
    var ws = new WebSocket(BASE.replace(/^http/, "ws") + "/ws");
    state.ws = ws; state.retry = null;
    ws.onopen = function () {
      ws.send(JSON.stringify({ op: "auth", ref: "auth", token: state.token }));
      state.backoff = 1000;
      var conv = state.conv;
      subscribePages("conversation:" + conv, state.lastSeq, function () { return state.conv === conv; }).then(function (d) {
        setStatusFromServer();
        return d;
      });
      if (state.projectId) op({ op: "subscribe", channel: "project:" + state.projectId + ":widget" }).catch(function () {});
      presence();
    };
    ws.onmessage = function (ev) {
      var f; try { f = JSON.parse(ev.data); } catch (e) { return; }
      if (f.type === "reply") {
        var w = state.waiters[f.ref]; delete state.waiters[f.ref];
        if (w) { if (f.ok) w.resolve(f.data); else { var e = new Error(f.message); e.code = f.error; w.reject(e); } }
        return;
      }
      if (f.type !== "event") return;
      var d = f.data || {};
      switch (f.event) {
        case "message": render(d); break;
        case "typing": if (d.user_type === "agent") typingLine.textContent = d.is_typing ? (state.agentName || "The agent") + " is typing…" : ""; break;
        case "agent_assigned": state.agentName = d.agent && d.agent.name; showAgent(d.agent); onStatus("agent_active"); break;
        case "status_changed": onStatus(d.new_status); break;
        case "queue_position": onStatus("waiting", d); break;
        case "resolved": onStatus("resolved"); if (d.show_rating) rating(); break;
        case "conversation_auto_closed": onStatus("closed"); break;
        case "availability_changed": state.availability = d; showHuman(); break;
        case "inactivity_warning": warning(d.active); break;
      }
    };
    ws.onclose = function () {
      state.ws = null;
      dropWaiters();
      if (state.status === "closed") return;
      setStatus("Reconnecting…");
      // Back off 1, 2, 4 ... 30 s; the resubscribe's after_seq fetches what was missed.
      state.retry = setTimeout(connect, state.backoff);
      state.backoff = Math.min(state.backoff * 2, 30000);
    };
  }

  function dropWaiters() {
    Object.keys(state.waiters).forEach(function (r) { state.waiters[r].reject(new Error("disconnected")); });
    state.waiters = {};
  }

  // Back online, or the tab in front again: reconnect now rather than at
  // the end of a backoff that may have grown to 30 s.
  function reconnectNow() {
    if (!state.conv || state.status === "closed" || (state.ws && state.ws.readyState === 1)) return;
    if (!state.retry && !state.ws) return;
    clearTimeout(state.retry); state.retry = null; state.backoff = 1000;
    // A connect still trying the old way is dropped, not waited for.
    if (state.ws) { var old = state.ws; old.onclose = null; old.onmessage = null; old.onopen = null; try { old.close(); } catch (e) { /* closing */ } state.ws = null; dropWaiters(); }
    connect();
  }
  window.addEventListener("online", reconnectNow);

  function setStatusFromServer() {
    return api("GET", "/api/conversations/" + state.conv).then(function (c) {
      state.projectId = c.project_id;
      if (c.status === "agent_active" && !state.agentName) state.agentName = null;
      onStatus(c.status, c);
      return c;
    });
  }

  function warning(active) {
    var old = extra.querySelector(".sbw-warn");
    if (old) old.remove();
    if (!active) return;
    var card = el("div", { "class": "sbw-card sbw-warn", role: "alert" });
    card.appendChild(el("span", null, "Are you still there? This chat will close soon."));
    var b = el("button", { type: "button", "class": "primary" }, "I'm still here");
    b.addEventListener("click", function () { state.lastActivity = Date.now(); presence("online"); card.remove(); });
    card.appendChild(b);
    extra.appendChild(card);
  }

  // ------------------------------------------------------------ presence
  function presence(forced) {
    if (!state.conv || !state.ws || state.ws.readyState !== 1) return;
    var s = forced || (document.hidden ? "background" : state.typing ? "typing" :
      Date.now() - state.lastActivity < IDLE_AFTER ? "online" : "idle");
    op({ op: "presence", conversation_id: state.conv, status: s }).catch(function () {});
  }
  ["mousedown", "keydown", "scroll", "touchstart"].forEach(function (t) {
    document.addEventListener(t, function () { state.lastActivity = Date.now(); }, { passive: true });
  });
  document.addEventListener("visibilitychange", function () {
    if (document.visibilityState === "visible") reconnectNow();
    presence();
  });
  window.addEventListener("beforeunload", function () { presence("offline"); });
  setInterval(function () { presence(); }, HEARTBEAT);

  function setTyping(on) {
    if (state.typing === on || !state.conv) return;
    state.typing = on;
    op({ op: "typing", conversation_id: state.conv, is_typing: on }).catch(function () {});
    presence(on ? "typing" : "online");
  }
  input.addEventListener("input", function () {
    setTyping(true);
    clearTimeout(state.typingTimer);
    state.typingTimer = setTimeout(function () { setTyping(false); }, TYPING_STOP);
  });
  input.addEventListener("blur", function () { setTyping(false); });
  input.addEventListener("keydown", function (ev) {
    if (ev.key === "Enter" && !ev.shiftKey) { ev.preventDefault(); form.requestSubmit(); }
  });

  // ------------------------------------------------------------ flow
  function start() {
    var body = visitor(); body.source = "widget"; body.metadata = context();
    return api("POST", "/api/widget/conversations", body, "key");
  }
  function ensureConversation() {
    if (state.conv) return Promise.resolve();
    return start()
      .catch(function (e) {
        // The server no longer knows this visitor's secret (or the visitor
        // is from before secrets): forget it and start as a new visitor.
        if (e.code !== "UNAUTHORIZED" || !get("visitor")) throw e;
        del("visitor"); del("visitor_secret");
        return start();
      })
      .then(function (r) {
        state.conv = r.conversation.id; state.token = r.customer_token; state.projectId = r.conversation.project_id;
        put("visitor", r.visitor_id); if (r.visitor_secret) put("visitor_secret", r.visitor_secret);
        put("conv", state.conv); put("token", state.token);
        onStatus(r.conversation.status);
        connect();
      });
  }

  form.addEventListener("submit", function (ev) {
    ev.preventDefault();
    var text = input.value.trim();
    if (!text) return;
    input.value = ""; setTyping(false);
    var cid = uuid();
    var bubble = el("div", { "class": "sbw-msg customer pending" }, text);
    state.pending[cid] = bubble; log.appendChild(bubble); scroll();
    var start = state.status === "closed" ? (state.conv = null, state.lastSeq = 0, state.seen = {}, ensureConversation()) : ensureConversation();
    start.then(function () {
      return api("POST", "/api/conversations/" + state.conv + "/messages", { content: text, client_msg_id: cid });
    }).then(render).catch(function (e) {
      bubble.classList.add("sbw-err"); bubble.textContent = text + " — not sent: " + e.message;
    });
  });

  human.addEventListener("click", function () {
    human.disabled = true;
    ensureConversation().then(function () {
      return api("POST", "/api/conversations/" + state.conv + "/handoff", { reason: "button_click" });
    }).then(function (r) {
      if (r.status === "agent_active") { state.agentName = r.assigned_agent && r.assigned_agent.name; showAgent(r.assigned_agent); onStatus("agent_active"); }
      else if (r.status === "waiting") onStatus("waiting", r);
      else if (r.status === "offline") { setStatus(r.message); state.availability = { available: false, show_offline_form: true }; showHuman(); }
      else { state.availability = { available: false }; showHuman(); setStatus("No one is available right now; the AI assistant is here."); }
    }).catch(function (e) { setStatus(e.message); }).then(function () { human.disabled = false; });
  });

  function open() {
    root.classList.add("open"); launch.setAttribute("aria-expanded", "true");
    state.opened = true;
    input.focus();
  }
  function shut() { root.classList.remove("open"); launch.setAttribute("aria-expanded", "false"); launch.focus(); }
  launch.addEventListener("click", open);
  close.addEventListener("click", shut);
  panel.addEventListener("keydown", function (ev) { if (ev.key === "Escape") shut(); });

  // Availability now and every 60 s (5.10.4); live changes come as events.
  function checkAvailability() {
    return api("GET", "/api/widget/availability", null, "key").then(function (a) { state.availability = a; showHuman(); }).catch(function () {});
  }
  checkAvailability(); setInterval(checkAvailability, 60000);

  // How the project wants its widget to look (the admin console's Widget
  // section): title, greeting, accent colour, corner and language.
  var greeting = null;
  function applyLook(a) {
    if (!a) return;
    if (/^#[0-9a-f]{6}$/i.test(a.accent_color || "")) root.style.setProperty("--sbw-accent", a.accent_color);
    if (a.position === "left") { root.style.left = "20px"; root.style.right = "auto"; }
    if (a.title) { title.textContent = a.title; launch.textContent = a.title; panel.setAttribute("aria-label", a.title); }
    if (a.language) root.setAttribute("lang", a.language);
    if (a.greeting && !greeting && !log.querySelector(".sbw-msg:not(.sbw-greeting)")) {
      greeting = el("div", { "class": "sbw-msg ai sbw-greeting" });
      greeting.appendChild(el("span", { "class": "sbw-who" }, "AI assistant"));
      greeting.appendChild(document.createTextNode(a.greeting));
      log.insertBefore(greeting, log.firstChild);
    }
  }
  api("GET", "/api/widget/config", null, "key").then(function (c) { applyLook(c.appearance); }).catch(function () {});

  // Resume a conversation this visitor already has.
  state.conv = get("conv"); state.token = get("token");
  if (state.conv && state.token) {
    setStatusFromServer().then(function (c) {
      if (c.status === "closed") { state.conv = null; state.token = null; return; }
      connect();
    }).catch(function () { state.conv = null; state.token = null; del("conv"); del("token"); setStatus("Ask us anything."); });
  } else {
    state.status = "ai_active"; setStatus("Ask us anything.");
  }
  // The host page says who its signed-in user is. With `user_hash` (the
  // HMAC its server made with the project's identity secret) the visitor
  // joins that customer and its history; without, the email is only
  // contact information for the team.
  function identify(who) {
    who = who || {};
    return ensureConversation().then(function () {
      return api("POST", "/api/widget/identify", { email: who.email, name: who.name || null, user_hash: who.user_hash || null });
    });
  }
  window.SwitchboardWidget = { open: open, close: shut, identify: identify };
})();
