/* The admin console (/admin): a project's admin sets it up from the browser
   alone. Sections are shown one at a time (the address's #hash names it);
   each reads and writes the public REST contract with the staff token of
   staff.js, and shows the server's per-field refusals beside the fields. */
(function () {
  "use strict";
  var $ = function (id) { return document.getElementById(id); };
  var el = Staff.el, api = Staff.api;
  var SECTIONS = ["projects", "handoff", "hours", "knowledge", "canned", "team", "widget", "keys", "billing", "profile"];
  /* What a user who administers no project and may not create one sees. */
  var OWN = ["profile"];
  var DAYS = ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"];

  var state = { me: null, projects: [], project: null, saved: null, keywords: [], editing: null, zones: false };

  /* ---------------------------------------------------------------- errors */

  /* Clear, then show a refusal: each `fields` entry beside the element
     marked data-field (or in `rest` when none is), the message otherwise. */
  function showErrors(scope, err, general, rest) {
    clearErrors(scope, general, rest);
    var fields = (err && err.fields) || {};
    var names = Object.keys(fields);
    var elsewhere = [];
    names.forEach(function (name) {
      var slot = scope.querySelector('[data-field="' + name + '"]');
      if (slot) slot.textContent = fields[name];
      else if (rest) rest.appendChild(el("div", { "data-field-name": name }, name + ": " + fields[name]));
      else elsewhere.push(name + " " + fields[name]);
    });
    if (general && !names.length) general.textContent = err.message;
    else if (general && elsewhere.length) general.textContent = "Not saved: " + elsewhere.join("; ") + ".";
  }
  function clearErrors(scope, general, rest) {
    scope.querySelectorAll("[data-field]").forEach(function (s) { s.textContent = ""; });
    if (general) general.textContent = "";
    if (rest) rest.textContent = "";
  }
  /* Ask in the page (never a browser dialog) before `action` runs: the
     button gives way to the question with Yes and Cancel. */
  function confirmInline(button, question, yes, action) {
    if (button.nextSibling && button.nextSibling.className === "confirm") return;
    var box = el("div", { class: "confirm", role: "group", "aria-label": question });
    box.appendChild(el("p", null, question));
    var ok = el("button", { type: "button", class: "button danger" }, yes);
    var no = el("button", { type: "button", class: "button minor" }, "Cancel");
    var close = function () { box.remove(); button.hidden = false; button.focus(); };
    ok.addEventListener("click", function () { box.remove(); button.hidden = false; action(); });
    no.addEventListener("click", close);
    box.appendChild(ok);
    box.appendChild(no);
    button.hidden = true;
    button.parentNode.insertBefore(box, button.nextSibling);
    ok.focus();
  }
  function flash(node, text) {
    node.textContent = text;
    setTimeout(function () { if (node.textContent === text) node.textContent = ""; }, 4000);
  }

  /* -------------------------------------------------------------- sections */

  /* The sections this user may open now: a project's admin all of them;
     someone who may create a project, that and their profile; anyone
     else, their profile. */
  function open_sections() {
    if (state.project) return SECTIONS;
    if (state.me && state.me.can_create_projects) return ["projects", "profile"];
    return OWN;
  }
  function show(section) {
    var allowed = open_sections();
    if (allowed.indexOf(section) < 0) section = allowed.indexOf("handoff") >= 0 ? "handoff" : allowed[0];
    SECTIONS.forEach(function (s) {
      $("sec-" + s).hidden = s !== section;
      var b = document.querySelector('nav.sections [data-section="' + s + '"]');
      b.setAttribute("aria-current", s === section ? "true" : "false");
      b.hidden = allowed.indexOf(s) < 0;
    });
    $("agent-only").hidden = allowed !== OWN;
    if (location.hash !== "#" + section) history.replaceState(null, "", "#" + section);
    if (section === "handoff" || section === "hours") loadSettings();
    if (section === "knowledge") loadKnowledge();
    if (section === "canned") loadCanned();
    if (section === "team") loadTeam();
    if (section === "widget") loadWidget();
    if (section === "keys") loadKeys();
    if (section === "profile") fillProfile();
    if (section === "billing") loadBilling();
  }
  document.querySelectorAll("nav.sections button").forEach(function (b) {
    b.addEventListener("click", function () { show(b.getAttribute("data-section")); });
  });
  window.addEventListener("hashchange", function () { show(location.hash.slice(1)); });

  function pid() { return state.project.id; }

  /* -------------------------------------------------------------- projects */

  function loadProjects(select) {
    return api("GET", "/api/projects").then(function (r) {
      state.projects = r.items.filter(function (p) { return p.role === "admin"; });
      var pick = $("project-select");
      pick.textContent = "";
      state.projects.forEach(function (p) { pick.appendChild(el("option", { value: p.id }, p.name)); });
      var keep = select || (state.project && state.project.id) || sessionStorage.getItem("sb_admin_project");
      state.project = state.projects.filter(function (p) { return p.id === keep; })[0] || state.projects[0] || null;
      $("project-pick").hidden = !state.projects.length;
      $("no-projects").hidden = !!state.projects.length;
      $("rename-form").hidden = !state.project;
      if (state.project) {
        pick.value = state.project.id;
        $("project-name").value = state.project.name;
        sessionStorage.setItem("sb_admin_project", state.project.id);
      }
      state.saved = null;
    });
  }
  $("project-select").addEventListener("change", function () {
    loadProjects($("project-select").value).then(function () { show(location.hash.slice(1)); });
  });
  $("new-project").addEventListener("submit", function (ev) {
    ev.preventDefault();
    $("new-project-err").textContent = "";
    api("POST", "/api/projects", { name: $("new-project-name").value }).then(function (p) {
      $("new-project-name").value = "";
      $("new-secret-value").value = p.secret_key;
      $("new-secret").hidden = false;
      return loadProjects(p.id).then(function () {
        show("projects");
        flash($("projects-status"), "Created " + p.name + ".");
      });
    }).catch(function (e) { $("new-project-err").textContent = e.message; });
  });
  $("rename-form").addEventListener("submit", function (ev) {
    ev.preventDefault();
    var form = $("rename-form");
    clearErrors(form);
    api("PATCH", "/api/projects/" + pid(), { name: $("project-name").value }).then(function (p) {
      return loadProjects(p.id).then(function () { flash($("projects-status"), "Renamed to " + p.name + "."); });
    }).catch(function (e) { showErrors(form, e, $("admin-err")); });
  });

  /* ---------------------------------------------------------- the settings */

  /* A form shows once its data is in, so nothing typed before the load is
     overwritten by it. */
  function loading(ids, on) {
    ids.forEach(function (id) { $(id).hidden = on; });
  }
  function loadSettings() {
    if (state.saved) { fillSettings(); return; }
    loading(["handoff-form", "hours-form"], true);
    Promise.all([
      api("GET", "/api/projects/" + pid() + "/handoff-settings"),
      api("GET", "/api/projects/" + pid() + "/agents"),
    ]).then(function (r) {
      state.saved = r[0];
      state.agents = Array.isArray(r[1]) ? r[1] : (r[1].items || []);
      fillSettings();
    }).catch(function (e) { $("admin-err").textContent = e.message; });
    loadZones();
  }

  function fillSettings() {
    var s = state.saved;
    loading(["handoff-form", "hours-form"], false);
    $("h-enabled").checked = s.enabled;
    $("h-trigger").value = s.trigger_mode;
    $("h-show-button").checked = s.show_human_button;
    $("h-low-enabled").checked = s.auto_triggers.low_confidence_enabled;
    $("h-threshold").value = s.auto_triggers.low_confidence_threshold;
    $("h-threshold-value").textContent = Number(s.auto_triggers.low_confidence_threshold).toFixed(2);
    $("h-kw-enabled").checked = s.auto_triggers.keywords_enabled;
    state.keywords = s.auto_triggers.keywords.slice();
    drawKeywords();
    $("h-max-chats").value = s.default_max_concurrent_chats;
    $("h-inactivity").value = s.inactivity_timeout_minutes;
    $("h-after-warning").value = s.auto_close_after_warning_minutes;
    $("h-keep-alive").value = s.session_keep_alive_minutes;
    $("h-send-warning").checked = s.send_inactivity_warning;
    $("bh-enabled").checked = s.business_hours_enabled;
    $("bh-timezone").value = s.timezone;
    drawDays(s.business_hours);
    ownerWarning();
    preview();
  }

  /* seed 003 5.10.5: handoff on, and no agent has joined the project. */
  function ownerWarning() {
    $("owner-warning").hidden = !(state.saved.enabled && !(state.agents || []).length);
  }
  $("invite-first").addEventListener("click", function () {
    show("team");
    $("inv-role").value = "agent";
    $("inv-email").focus();
  });

  function number(id) {
    var v = $(id).value;
    return v === "" ? null : Number(v);
  }

  /* The whole settings document: the saved one with both forms' values. */
  function collect() {
    var s = JSON.parse(JSON.stringify(state.saved));
    s.enabled = $("h-enabled").checked;
    s.trigger_mode = $("h-trigger").value;
    s.show_human_button = $("h-show-button").checked;
    s.auto_triggers.low_confidence_enabled = $("h-low-enabled").checked;
    s.auto_triggers.low_confidence_threshold = Number($("h-threshold").value);
    s.auto_triggers.keywords_enabled = $("h-kw-enabled").checked;
    s.auto_triggers.keywords = state.keywords.slice();
    s.default_max_concurrent_chats = number("h-max-chats");
    s.inactivity_timeout_minutes = number("h-inactivity");
    s.auto_close_after_warning_minutes = number("h-after-warning");
    s.session_keep_alive_minutes = number("h-keep-alive");
    s.send_inactivity_warning = $("h-send-warning").checked;
    s.business_hours_enabled = $("bh-enabled").checked;
    s.timezone = $("bh-timezone").value.trim();
    DAYS.forEach(function (d) {
      s.business_hours[d] = {
        enabled: $("bh-" + d + "-open").checked,
        start: $("bh-" + d + "-start").value,
        end: $("bh-" + d + "-end").value,
      };
    });
    return s;
  }

  function saveSettings(form, general, status, rest) {
    clearErrors(form, general, rest);
    var doc = collect();
    return api("PUT", "/api/projects/" + pid() + "/handoff-settings", doc).then(function (saved) {
      state.saved = saved;
      fillSettings();
      flash(status, "Saved.");
    }).catch(function (e) { showErrors(form, e, general, rest); });
  }

  $("h-threshold").addEventListener("input", function () {
    $("h-threshold-value").textContent = Number($("h-threshold").value).toFixed(2);
  });
  function drawKeywords() {
    var list = $("h-keywords");
    list.textContent = "";
    state.keywords.forEach(function (k, i) {
      var chip = el("li", { class: "chip" }, k);
      var x = el("button", { type: "button", "aria-label": "Remove keyword " + k }, "×");
      x.addEventListener("click", function () { state.keywords.splice(i, 1); drawKeywords(); });
      chip.appendChild(x);
      list.appendChild(chip);
    });
  }
  function addKeyword() {
    var k = $("h-keyword").value.trim();
    if (!k) return;
    if (state.keywords.indexOf(k) < 0) state.keywords.push(k);
    $("h-keyword").value = "";
    drawKeywords();
  }
  $("h-keyword-add").addEventListener("click", addKeyword);
  $("h-keyword").addEventListener("keydown", function (ev) {
    if (ev.key === "Enter") { ev.preventDefault(); addKeyword(); }
  });
  $("handoff-form").addEventListener("submit", function (ev) {
    ev.preventDefault();
    saveSettings($("handoff-form"), $("h-err"), $("h-status"));
  });
  $("h-cancel").addEventListener("click", function () { clearErrors($("handoff-form"), $("h-err")); fillSettings(); });

  /* -------------------------------------------------------- business hours */

  function loadZones() {
    if (state.zones) return;
    state.zones = true;
    api("GET", "/api/timezones").then(function (r) {
      var list = $("bh-zones");
      r.items.forEach(function (z) { list.appendChild(el("option", { value: z })); });
    }).catch(function () { state.zones = false; });
  }

  function drawDays(hours) {
    var body = $("bh-days");
    body.textContent = "";
    DAYS.forEach(function (d) {
      var h = hours[d];
      var label = d.charAt(0).toUpperCase() + d.slice(1);
      var tr = el("tr");
      var th = el("th", { scope: "row" });
      th.appendChild(el("span", { class: "long" }, label));
      th.appendChild(el("span", { class: "short", "aria-hidden": "true" }, label.slice(0, 3)));
      tr.appendChild(th);
      var open = el("input", { type: "checkbox", id: "bh-" + d + "-open", "aria-label": label + " open" });
      open.checked = h.enabled;
      var start = el("input", { type: "time", id: "bh-" + d + "-start", "aria-label": label + " from" });
      start.value = h.start;
      var end = el("input", { type: "time", id: "bh-" + d + "-end", "aria-label": label + " to" });
      end.value = h.end;
      [open, start, end].forEach(function (input) {
        var td = el("td");
        td.appendChild(input);
        if (input !== open) td.appendChild(el("span", { class: "field-err", "data-field": "business_hours." + d + "." + (input === start ? "start" : "end") }));
        tr.appendChild(td);
        input.addEventListener("change", preview);
      });
      body.appendChild(tr);
    });
  }

  /* "Open now" and the next opening, as the server computes them for the
     form's values (saved or not), in the project's time zone. */
  var previewSeq = 0;
  function preview() {
    var seq = ++previewSeq;
    api("POST", "/api/projects/" + pid() + "/handoff-settings/preview", collect()).then(function (p) {
      if (seq !== previewSeq) return;
      var text = "It is " + p.local_time + " in " + p.timezone + ". ";
      if (!p.business_hours_enabled) text += "Business hours are off: agents can be reached at any time.";
      else if (p.open_now) text += "Open now.";
      else if (p.next_opening_local) text += "Closed now; opens " + p.next_opening_local + ".";
      else text += "Closed now, and no day is open.";
      $("bh-preview").textContent = text;
    }).catch(function (e) {
      if (seq !== previewSeq) return;
      $("bh-preview").textContent = e.fields ? "Fix the marked fields to see a preview." : e.message;
    });
  }
  $("bh-enabled").addEventListener("change", preview);
  $("bh-timezone").addEventListener("change", preview);
  $("hours-form").addEventListener("submit", function (ev) {
    ev.preventDefault();
    saveSettings($("hours-form"), $("bh-err"), $("bh-status"), $("bh-day-errors"));
  });
  $("bh-cancel").addEventListener("click", function () { clearErrors($("hours-form"), $("bh-err"), $("bh-day-errors")); fillSettings(); });

  /* -------------------------------------------------------- knowledge base */

  function loadKnowledge() {
    api("GET", "/api/projects/" + pid() + "/knowledge").then(function (r) {
      var list = $("kb-list");
      list.textContent = "";
      if (!r.items.length) list.appendChild(el("li", { class: "hint" }, "No entries yet: the AI cannot answer anything until you add one."));
      r.items.forEach(function (k) {
        var li = el("li", { "data-entry": k.id });
        li.appendChild(el("span", { class: "q" }, k.question));
        li.appendChild(el("span", { class: "a" }, k.answer));
        var actions = el("div", { class: "actions" });
        var edit = el("button", { type: "button", class: "button minor" }, "Edit");
        edit.addEventListener("click", function () { editEntry(k); });
        var del = el("button", { type: "button", class: "button danger" }, "Delete");
        del.addEventListener("click", function () {
          confirmInline(del, "Delete this entry? The AI stops using it at once.", "Delete", function () {
            api("DELETE", "/api/projects/" + pid() + "/knowledge/" + k.id).then(loadKnowledge)
              .catch(function (e) { $("kb-err").textContent = e.message; });
          });
        });
        actions.appendChild(edit);
        actions.appendChild(del);
        li.appendChild(actions);
        list.appendChild(li);
      });
    }).catch(function (e) { $("admin-err").textContent = e.message; });
  }
  function editEntry(k) {
    state.editing = k ? k.id : null;
    $("kb-question").value = k ? k.question : "";
    $("kb-answer").value = k ? k.answer : "";
    $("kb-form-title").textContent = k ? "Edit the entry" : "Add an entry";
    $("kb-save").textContent = k ? "Save changes" : "Add entry";
    $("kb-cancel").hidden = !k;
    clearErrors($("kb-form"), $("kb-err"));
    if (k) $("kb-question").focus();
  }
  $("kb-cancel").addEventListener("click", function () { editEntry(null); });
  $("kb-form").addEventListener("submit", function (ev) {
    ev.preventDefault();
    var body = { question: $("kb-question").value, answer: $("kb-answer").value };
    var req = state.editing
      ? api("PUT", "/api/projects/" + pid() + "/knowledge/" + state.editing, body)
      : api("POST", "/api/projects/" + pid() + "/knowledge", body);
    req.then(function () { editEntry(null); loadKnowledge(); })
      .catch(function (e) { showErrors($("kb-form"), e, $("kb-err")); });
  });
  $("kb-try").addEventListener("submit", function (ev) {
    ev.preventDefault();
    var out = $("kb-try-result");
    out.textContent = "Asking…";
    api("POST", "/api/projects/" + pid() + "/knowledge/try", { question: $("kb-try-question").value }).then(function (r) {
      out.textContent = "";
      out.appendChild(el("p", { class: "answer", id: "kb-try-answer" }, r.answer));
      var pct = Math.round(r.confidence * 100);
      var verdict = r.would_hand_off ? "below the threshold: this would hand off to a human" : "at or above the threshold: the AI answers";
      out.appendChild(el("p", { id: "kb-try-confidence" }, "Confidence " + pct + " % (" + verdict + ")."));
    }).catch(function (e) { out.textContent = ""; out.appendChild(el("p", { class: "err" }, e.message)); });
  });

  /* ------------------------------------------------------ canned responses */

  /* The project's own responses (owner_id null); personal ones are each
     agent's, kept from the dashboard. */
  function loadCanned() {
    api("GET", "/api/projects/" + pid() + "/canned-responses").then(function (r) {
      var list = $("cr-list");
      list.textContent = "";
      var items = r.items.filter(function (c) { return !c.owner_id; });
      if (!items.length) list.appendChild(el("li", { class: "hint" }, "No responses yet."));
      items.forEach(function (c) {
        var li = el("li", { "data-response": c.id });
        li.appendChild(el("span", { class: "q" }, "/" + c.shortcode));
        li.appendChild(el("span", { class: "a" }, c.content));
        var actions = el("div", { class: "actions" });
        var edit = el("button", { type: "button", class: "button minor" }, "Edit");
        edit.addEventListener("click", function () { editCanned(c); });
        var del = el("button", { type: "button", class: "button danger" }, "Delete");
        del.addEventListener("click", function () {
          confirmInline(del, "Delete /" + c.shortcode + " for the whole team?", "Delete", function () {
            api("DELETE", "/api/projects/" + pid() + "/canned-responses/" + c.id).then(loadCanned)
              .catch(function (e) { $("cr-err").textContent = e.message; });
          });
        });
        actions.appendChild(edit);
        actions.appendChild(del);
        li.appendChild(actions);
        list.appendChild(li);
      });
    }).catch(function (e) { $("admin-err").textContent = e.message; });
  }
  function editCanned(c) {
    state.editingCanned = c ? c.id : null;
    $("cr-shortcode").value = c ? c.shortcode : "";
    $("cr-content").value = c ? c.content : "";
    $("cr-form-title").textContent = c ? "Edit /" + c.shortcode : "Add a response";
    $("cr-save").textContent = c ? "Save changes" : "Add response";
    $("cr-cancel").hidden = !c;
    clearErrors($("cr-form"), $("cr-err"));
    if (c) $("cr-shortcode").focus();
  }
  $("cr-cancel").addEventListener("click", function () { editCanned(null); });
  $("cr-form").addEventListener("submit", function (ev) {
    ev.preventDefault();
    var body = { shortcode: $("cr-shortcode").value, content: $("cr-content").value };
    var base = "/api/projects/" + pid() + "/canned-responses";
    var req = state.editingCanned ? api("PATCH", base + "/" + state.editingCanned, body)
      : api("POST", base, { shortcode: body.shortcode, content: body.content, scope: "project" });
    req.then(function () { editCanned(null); loadCanned(); })
      .catch(function (e) { showErrors($("cr-form"), e, $("cr-err")); });
  });

  /* ------------------------------------------------------------------ team */

  function when(t) { return t ? new Date(t).toLocaleString() : "—"; }

  function loadTeam() {
    Promise.all([
      api("GET", "/api/projects/" + pid() + "/members"),
      api("GET", "/api/projects/" + pid() + "/agents"),
    ]).then(function (r) {
      var agents = {};
      (Array.isArray(r[1]) ? r[1] : (r[1].items || [])).forEach(function (a) { agents[a.user_id] = a; });
      var body = $("team-list");
      body.textContent = "";
      r[0].items.forEach(function (m) {
        var a = m.user_id && agents[m.user_id];
        var tr = el("tr", { "data-member": m.id });
        var active = m.status === "active" || m.status === "accepted";
        tr.appendChild(el("td", null, m.name || "—"));
        tr.appendChild(el("td", null, m.email));
        var roleCell = el("td");
        if (active) {
          var role = el("select", { "aria-label": "Role of " + m.email, class: "member-role" });
          role.appendChild(el("option", { value: "agent" }, "agent"));
          role.appendChild(el("option", { value: "admin" }, "admin"));
          role.value = m.role;
          role.addEventListener("change", function () {
            changeMember(m, { role: role.value }, function () { role.value = m.role; });
          });
          roleCell.appendChild(role);
        } else roleCell.textContent = m.role;
        tr.appendChild(roleCell);
        tr.appendChild(el("td", { class: "member-status" }, active ? (a ? a.status : "member") : m.status));
        var chats = el("td");
        if (active && a) {
          chats.appendChild(document.createTextNode(a.current_chat_count + " / "));
          var max = el("input", { type: "number", min: "1", max: "50", class: "member-max", "aria-label": "Chats at once for " + m.email });
          max.value = a.max_concurrent_chats;
          max.style.width = "4.5rem";
          max.addEventListener("change", function () {
            changeMember(m, { max_concurrent_chats: Number(max.value) }, function () { max.value = a.max_concurrent_chats; });
          });
          chats.appendChild(max);
        } else chats.textContent = m.role === "agent" ? "0 / " + m.max_concurrent_chats : "—";
        tr.appendChild(chats);
        tr.appendChild(el("td", null, a ? when(a.last_seen_at) : "—"));
        var td = el("td");
        var pending = m.status === "pending" || m.status === "expired";
        var verb = pending ? "Revoke" : "Remove";
        var drop = el("button", { type: "button", class: pending ? "button minor" : "button danger", "aria-label": verb + " " + m.email }, verb);
        drop.addEventListener("click", function () {
          var question = pending
            ? "Revoke the invitation of " + m.email + "? Its link stops working."
            : "Remove " + (m.name || m.email) + " from the project? Their open chats go back to the queue and they lose access at once.";
          confirmInline(drop, question, pending ? "Revoke" : "Remove", function () {
            $("team-err").textContent = "";
            api("DELETE", "/api/projects/" + pid() + "/members/" + m.id).then(function () {
              flash($("team-status"), pending ? "Invitation revoked." : "Removed " + (m.name || m.email) + ".");
              loadTeam();
            }).catch(function (e) { $("team-err").textContent = e.message; });
          });
        });
        if (pending) {
          var again = el("button", { type: "button", class: "button minor", "aria-label": "Send again to " + m.email }, "Send again");
          again.addEventListener("click", function () {
            $("team-err").textContent = "";
            api("POST", "/api/projects/" + pid() + "/members/" + m.id + "/resend").then(function (r) {
              showInvite(r);
              flash($("team-status"), "A new link for " + m.email + "; the old one no longer works.");
              loadTeam();
            }).catch(function (e) { $("team-err").textContent = e.message; });
          });
          td.appendChild(again);
        }
        td.appendChild(drop);
        tr.appendChild(td);
        body.appendChild(tr);
      });
    }).catch(function (e) { $("admin-err").textContent = e.message; });
  }
  function showInvite(r) {
    $("invite-to").textContent = r.member.email;
    $("invite-link").value = r.invite_url;
    $("invite-mailed").textContent = r.email_sent
      ? "We emailed it too."
      : "The email could not be sent: copy the link and send it yourself.";
    $("invite-result").hidden = false;
  }
  function changeMember(m, body, undo) {
    $("team-err").textContent = "";
    api("PATCH", "/api/projects/" + pid() + "/members/" + m.id, body).then(function () {
      flash($("team-status"), "Saved " + (m.name || m.email) + ".");
      state.saved = null;
      loadTeam();
    }).catch(function (e) {
      undo();
      $("team-err").textContent = e.fields ? Object.keys(e.fields).map(function (k) { return e.fields[k]; }).join(" ") : e.message;
    });
  }
  $("invite-form").addEventListener("submit", function (ev) {
    ev.preventDefault();
    var form = $("invite-form");
    var body = { email: $("inv-email").value, role: $("inv-role").value };
    if ($("inv-name").value.trim()) body.name = $("inv-name").value;
    if ($("inv-max").value) body.max_concurrent_chats = Number($("inv-max").value);
    clearErrors(form, null, $("inv-errors"));
    api("POST", "/api/projects/" + pid() + "/members", body).then(function (r) {
      showInvite(r);
      form.reset();
      loadTeam();
      state.saved = null;
    }).catch(function (e) { showErrors(form, e, $("inv-errors"), $("inv-errors")); });
  });

  /* ---------------------------------------------------------------- widget */

  function loadWidget() {
    loading(["widget-form"], true);
    api("GET", "/api/projects/" + pid() + "/widget").then(function (w) {
      state.widget = w;
      fillWidget();
    }).catch(function (e) { $("w-err").textContent = e.message; });
  }
  function fillWidget() {
    var w = state.widget, a = w.appearance;
    loading(["widget-form"], false);
    $("w-snippet").value = w.snippet;
    state.origins = w.allowed_origins.slice();
    drawOrigins();
    $("w-title").value = a.title;
    $("w-greeting").value = a.greeting;
    $("w-accent").value = a.accent_color;
    $("w-position").value = a.position;
    $("w-language").value = a.language;
    drawPreview();
  }
  function drawOrigins() {
    var list = $("w-origins");
    list.textContent = "";
    if (!state.origins.length) list.appendChild(el("li", { class: "hint" }, "Any site"));
    state.origins.forEach(function (o, i) {
      var chip = el("li", { class: "chip" }, o);
      var x = el("button", { type: "button", "aria-label": "Remove site " + o }, "×");
      x.addEventListener("click", function () { state.origins.splice(i, 1); drawOrigins(); });
      chip.appendChild(x);
      list.appendChild(chip);
    });
  }
  function addOrigin() {
    var o = $("w-origin").value.trim().replace(/\/+$/, "");
    if (!o) return;
    if (state.origins.indexOf(o) < 0) state.origins.push(o);
    $("w-origin").value = "";
    drawOrigins();
  }
  $("w-origin-add").addEventListener("click", addOrigin);
  $("w-origin").addEventListener("keydown", function (ev) {
    if (ev.key === "Enter") { ev.preventDefault(); addOrigin(); }
  });
  function look() {
    return {
      title: $("w-title").value, greeting: $("w-greeting").value, accent_color: $("w-accent").value,
      position: $("w-position").value, language: $("w-language").value,
    };
  }
  /* The preview follows the form as it is typed, before it is saved. */
  function drawPreview() {
    var a = look();
    $("pv-title").textContent = a.title;
    $("pv-title").style.background = a.accent_color;
    $("pv-greeting").textContent = a.greeting;
    $("pv-greeting").hidden = !a.greeting.trim();
    $("pv-launch").textContent = a.title;
    $("pv-launch").style.background = a.accent_color;
    var side = a.position === "left" ? "left" : "right", other = side === "left" ? "right" : "left";
    ["pv-launch"].forEach(function (id) { $(id).style[side] = "1rem"; $(id).style[other] = "auto"; });
    document.querySelector("#w-preview .pv-panel").style[side] = "1rem";
    document.querySelector("#w-preview .pv-panel").style[other] = "auto";
  }
  ["w-title", "w-greeting", "w-accent", "w-position", "w-language"].forEach(function (id) {
    $(id).addEventListener("input", drawPreview);
    $(id).addEventListener("change", drawPreview);
  });
  $("widget-form").addEventListener("submit", function (ev) {
    ev.preventDefault();
    var form = $("widget-form");
    clearErrors(form, $("w-err"), $("w-origin-errors"));
    api("PUT", "/api/projects/" + pid() + "/widget", { appearance: look(), allowed_origins: state.origins }).then(function (w) {
      state.widget = w;
      fillWidget();
      flash($("w-status"), "Saved.");
    }).catch(function (e) {
      showErrors(form, e, $("w-err"), $("w-origin-errors"));
      // A site's problem names it, not its place in the list.
      $("w-origin-errors").querySelectorAll("[data-field-name]").forEach(function (d) {
        var i = Number(d.getAttribute("data-field-name").split(".")[1]);
        if (!isNaN(i) && state.origins[i] != null) d.textContent = state.origins[i] + ": " + e.fields[d.getAttribute("data-field-name")];
      });
    });
  });
  $("w-cancel").addEventListener("click", function () { clearErrors($("widget-form"), $("w-err"), $("w-origin-errors")); fillWidget(); });

  /* ------------------------------------------------------------------ keys */

  function loadKeys() {
    $("key-secret-new").hidden = true;
    api("GET", "/api/projects/" + pid()).then(function (p) {
      $("key-public").value = p.public_key;
      $("key-identity").value = p.identity_secret || "";
    }).catch(function (e) { $("keys-err").textContent = e.message; });
  }
  function rotation(button, question, path, done) {
    $(button).addEventListener("click", function () {
      confirmInline($(button), question, "Rotate", function () {
        $("keys-err").textContent = "";
        api("POST", "/api/projects/" + pid() + path).then(function (r) {
          done(r);
          flash($("keys-status"), "Rotated. The old one no longer works.");
        }).catch(function (e) { $("keys-err").textContent = e.message; });
      });
    });
  }
  rotation("rotate-public", "Rotate the public key? Sites that embed the old key stop opening chats until you update the snippet.", "/public-key", function (r) {
    $("key-public").value = r.public_key;
    state.project.public_key = r.public_key;
  });
  rotation("rotate-secret", "Rotate the secret key? Your servers are refused until they use the new one.", "/secret-key", function (r) {
    $("key-secret").value = r.secret_key;
    $("key-secret-new").hidden = false;
  });
  rotation("rotate-identity", "Rotate the identity secret? Signatures made with the old one fail at once.", "/identity-secret", function (r) {
    $("key-identity").value = r.identity_secret;
  });

  /* --------------------------------------------------------------- billing */

  function loadBilling() {
    loading(["billing-form"], true);
    api("GET", "/api/projects/" + pid() + "/billing").then(function (b) {
      $("bill-share").value = b.solver_share_percent;
      loading(["billing-form"], false);
    }).catch(function (e) { $("bill-err").textContent = e.message; });
  }
  $("billing-form").addEventListener("submit", function (ev) {
    ev.preventDefault();
    var form = $("billing-form");
    var v = $("bill-share").value;
    clearErrors(form, $("bill-err"));
    api("PUT", "/api/projects/" + pid() + "/billing", { solver_share_percent: v === "" ? null : Number(v) }).then(function (b) {
      $("bill-share").value = b.solver_share_percent;
      flash($("bill-status"), "Saved.");
    }).catch(function (e) { showErrors(form, e, $("bill-err")); });
  });

  /* --------------------------------------------------------------- profile */

  function fillProfile() {
    var u = state.me.user;
    $("p-name").value = u.name;
    $("p-avatar").value = u.avatar_url || "";
    showAvatar(u.avatar_url);
  }
  function showAvatar(url) {
    var img = $("p-avatar-img");
    img.hidden = !url;
    if (url) img.src = url; else img.removeAttribute("src");
  }
  $("profile-form").addEventListener("submit", function (ev) {
    ev.preventDefault();
    var form = $("profile-form");
    clearErrors(form, $("p-err"));
    api("PATCH", "/api/auth/me", { name: $("p-name").value, avatar_url: $("p-avatar").value }).then(function (r) {
      state.me.user = r.user;
      $("me").textContent = r.user.name;
      fillProfile();
      flash($("p-status"), "Saved.");
    }).catch(function (e) { showErrors(form, e, $("p-err")); });
  });
  $("password-form").addEventListener("submit", function (ev) {
    ev.preventDefault();
    var form = $("password-form");
    clearErrors(form, $("pw-err"));
    api("POST", "/api/auth/password", { current_password: $("pw-current").value, new_password: $("pw-new").value }).then(function () {
      form.reset();
      flash($("pw-status"), "Changed. Your other sessions are logged out.");
    }).catch(function (e) { showErrors(form, e, $("pw-err")); });
  });

  /* ------------------------------------------------------------ the start */

  document.querySelectorAll("[data-copy]").forEach(function (b) {
    b.addEventListener("click", function () {
      var input = $(b.getAttribute("data-copy"));
      input.select();
      var done = function () { b.textContent = "Copied"; setTimeout(function () { b.textContent = "Copy"; }, 2000); };
      if (navigator.clipboard) navigator.clipboard.writeText(input.value).then(done, function () { document.execCommand("copy"); done(); });
      else { document.execCommand("copy"); done(); }
    });
  });

  Staff.login(function () {
    api("GET", "/api/auth/me").then(function (me) {
      state.me = me;
      $("login").hidden = true;
      $("admin").hidden = false;
      $("logout").hidden = false;
      $("to-dashboard").hidden = false;
      $("me").textContent = me.user.name;
      return loadProjects();
    }).then(function () {
      show(location.hash.slice(1));
    }).catch(function (e) {
      if (e.status === 401) { Staff.forget(); $("login").hidden = false; $("admin").hidden = true; }
      $("login-err").textContent = e.message;
    });
  });
})();
