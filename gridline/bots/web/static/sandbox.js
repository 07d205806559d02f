// Gridline sandbox: the resident's chat (left) and the paged leader's inbox (right).
// Everything comes from /sandbox/api; the page polls it every ~1.5 s. No libraries.
"use strict";
(() => {
  const T = JSON.parse(document.getElementById("sandbox-texts").textContent);
  const LANG = document.body.dataset.lang || "zh-CN";
  const API = "/sandbox/api";
  const POLL_MS = 1500;
  const $ = (id) => document.getElementById(id);
  const fmt = (text, params) => text.replace(/\{(\w+)\}/g, (m, k) => (k in params ? String(params[k]) : m));

  // el("div", {class: "x", text: "y", onclick: fn, data: {id: 1}}, child, ...)
  function el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    for (const [key, value] of Object.entries(attrs || {})) {
      if (value === undefined || value === null || value === false) continue;
      if (key === "text") node.textContent = value;
      else if (key === "class") node.className = value;
      else if (key === "data") Object.assign(node.dataset, value);
      else if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
      else node.setAttribute(key, value === true ? "" : value);
    }
    for (const child of children.flat()) if (child) node.append(child);
    return node;
  }

  const store = {
    get(key) { try { return localStorage.getItem("gridline.sandbox." + key); } catch (e) { return null; } },
    set(key, value) { try { localStorage.setItem("gridline.sandbox." + key, value); } catch (e) { /* private mode */ } },
  };

  function uuid() {
    if (window.crypto && crypto.randomUUID) return crypto.randomUUID();
    const b = new Uint8Array(16);
    crypto.getRandomValues(b);
    b[6] = (b[6] & 0x0f) | 0x40; b[8] = (b[8] & 0x3f) | 0x80;
    const h = Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");
    return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
  }

  const state = {
    who: store.get("who") || "",            // "" = anonymous, else a resident id
    session: store.get("session") || "",
    staffId: store.get("staff") || "",
    caseId: store.get("case") || "",
    pending: [],                            // messages posted but not yet processed
    conversation: null, staff: [], results: {}, reassigning: null, lastChat: "", lastInbox: "", lastCase: "",
  };
  if (!state.session) { state.session = uuid().replace(/-/g, ""); store.set("session", state.session); }

  async function api(path, options) {
    const init = { headers: { accept: "application/json" } };
    if (options && options.body) {
      init.method = "POST";
      init.headers["content-type"] = "application/json";
      init.body = JSON.stringify(options.body);
    }
    const response = await fetch(API + path, init);
    const body = await response.json().catch(() => ({}));
    setBanner("");
    if (!response.ok && !(options && options.acceptErrors)) {
      const detail = body && body.detail;
      throw new Error((detail && detail.message) || JSON.stringify(detail || response.status));
    }
    return body;
  }

  function setBanner(text) {
    const banner = $("banner");
    banner.textContent = text;
    banner.hidden = !text;
  }

  function whoQuery() {
    return state.who ? `resident_id=${encodeURIComponent(state.who)}` : `session_id=${encodeURIComponent(state.session)}`;
  }

  function whoBody() {
    return state.who ? { resident_id: Number(state.who) } : { session_id: state.session };
  }

  // --- resident side ---------------------------------------------------------------------------

  async function send(fields, label) {
    const eventId = uuid();
    state.pending.push({ event_id: eventId, text: label });
    renderChat(true);
    try {
      await api("/messages", { body: { event_id: eventId, lang: LANG, ...whoBody(), ...fields } });
    } catch (error) {
      state.pending = state.pending.filter((p) => p.event_id !== eventId);
      setBanner(String(error.message || error));
      renderChat(true);
      return;
    }
    setTimeout(pollChat, 300);
  }

  async function pollChat() {
    const data = await api(`/conversation?${whoQuery()}&lang=${LANG}`);
    const seen = new Set(data.messages.filter((m) => m.direction === "in").map((m) => m.event_id));
    state.pending = state.pending.filter((p) => !seen.has(p.event_id));
    state.conversation = data;
    const key = JSON.stringify([data, state.pending]);
    if (key === state.lastChat) return;
    state.lastChat = key;
    renderChat(false);
    renderWhere();
    renderCases();
    autoOpenInbox();
  }

  function renderChat(force) {
    const chat = $("chat");
    const atBottom = force || chat.scrollHeight - chat.scrollTop - chat.clientHeight < 40;
    const messages = (state.conversation && state.conversation.messages) || [];
    const lastIn = messages.reduce((acc, m, i) => (m.direction === "in" ? i : acc), -1);
    const items = messages.map((m, i) => bubble(m, i > lastIn && state.pending.length === 0));
    for (const p of state.pending) {
      items.push(el("li", { class: "bubble in pending" }, p.text, el("span", { class: "meta", text: T.sending })));
    }
    if (!items.length) items.push(el("li", { class: "empty", text: T.empty_chat }));
    chat.replaceChildren(...items);
    if (atBottom) chat.scrollTop = chat.scrollHeight;
  }

  function bubble(message, live) {
    const options = message.options.length
      ? el("div", { class: "options" }, message.options.map((o) =>
        el("button", { type: "button", text: o.label, disabled: !live, onclick: () => send({ choice: o.data }, o.label) })))
      : null;
    const who = message.direction === "in" ? "" : `${T.from_system} · `;
    return el("li", { class: `bubble ${message.direction}` }, message.text, options,
      el("span", { class: "meta", text: `${who}${message.at ? message.at.local.slice(6) : ""}` }));
  }

  function renderWhere() {
    const resident = state.conversation && state.conversation.resident;
    const chosen = residentById(state.who);
    const grid = (resident && resident.grid_name) || (chosen && chosen.grid_name);
    $("where").textContent = grid ? T.registered_in + grid : T.not_registered;
    const code = (resident && resident.grid_code) || (chosen && chosen.grid_code);
    document.querySelectorAll("#map-canvas .g3").forEach((p) => p.classList.toggle("mine", p.dataset.code === code));
  }

  function renderCases() {
    const cases = (state.conversation && state.conversation.cases) || [];
    $("my-cases").hidden = !cases.length;
    $("my-cases-list").replaceChildren(...cases.map((c) => {
      const target = inboxTarget(c);
      const paged = c.pages.map((p) => `${p.name}（${p.channel_label} · ${p.status_label}）`).join("、");
      return el("li", {},
        el("strong", { text: `#${c.ref}` }),
        el("span", { class: `badge s-${c.status}`, text: c.status_label }),
        el("span", { text: c.category_label }),
        c.rating ? el("span", { text: "★".repeat(c.rating) }) : null,
        paged ? el("span", { class: "paged", text: T.paged + paged }) : null,
        target ? el("button", { type: "button", class: "link", text: fmt(T.open_inbox_of, { name: target.name }),
          onclick: () => openInbox(target.staff_id, c.id) }) : null);
    }));
  }

  // Whose inbox shows this case: the latest person paged who has a web inbox.
  function inboxTarget(c) {
    const reachable = new Set(state.staff.map((s) => s.id));
    const pages = c.pages.filter((p) => reachable.has(p.staff_id));
    return pages.length ? pages[pages.length - 1] : null;
  }

  // A newcomer who has not picked anyone on the right sees the person just paged.
  function autoOpenInbox() {
    if (state.staffId) return;
    const cases = (state.conversation && state.conversation.cases) || [];
    for (const c of cases) {
      const target = inboxTarget(c);
      if (target) { openInbox(target.staff_id, c.id); return; }
    }
  }

  function residentById(id) {
    return (state.residents || []).find((r) => String(r.id) === String(id));
  }

  async function loadResidents() {
    const data = await api(`/residents?lang=${LANG}`);
    state.residents = data.residents;
    const select = $("who");
    const group = el("optgroup", { label: T.demo_residents },
      data.residents.map((r) => el("option", { value: String(r.id), text: `${r.name} · ${r.grid_name}` })));
    select.replaceChildren(el("option", { value: "", text: T.new_resident }), group);
    if (state.who && !residentById(state.who)) state.who = "";
    select.value = state.who;
    renderWhere();
  }

  function chooseResident(value) {
    state.who = value;
    store.set("who", value);
    state.pending = [];
    state.conversation = null;
    state.lastChat = "";
    renderChat(true);
    pollChat().catch(offline);
  }

  // --- map ---------------------------------------------------------------------------------------

  const SVG = "http://www.w3.org/2000/svg";
  function svg(tag, attrs) {
    const node = document.createElementNS(SVG, tag);
    for (const [key, value] of Object.entries(attrs)) node.setAttribute(key, value);
    return node;
  }

  async function toggleMap() {
    const figure = $("map");
    figure.hidden = !figure.hidden;
    if (!figure.hidden && !$("map-canvas").firstChild) await drawMap();
  }

  async function drawMap() {
    const data = await api("/map");
    if (!data.projection) return;
    const root = svg("svg", { viewBox: `0 0 ${data.width} ${data.height}`, role: "img", "aria-label": T.map_hint });
    for (const level of [3, 2, 1]) {
      for (const grid of data.grids.filter((g) => g.level === level)) {
        const path = svg("path", { d: grid.path, class: `g${level}`, "fill-rule": "evenodd", "data-code": grid.code });
        const title = svg("title", {});
        title.textContent = `${grid.name} (${grid.code})`;
        path.append(title);
        root.append(path);
      }
    }
    for (const grid of data.grids.filter((g) => g.level === 3)) {
      const label = svg("text", { x: grid.label[0], y: grid.label[1] });
      label.textContent = grid.code.split("-").slice(-2).join("-");
      root.append(label);
    }
    const pin = svg("circle", { r: 9, class: "pin", visibility: "hidden" });
    root.append(pin);
    root.addEventListener("click", (event) => {
      const point = root.createSVGPoint();
      point.x = event.clientX;
      point.y = event.clientY;
      const at = point.matrixTransform(root.getScreenCTM().inverse());
      const p = data.projection;
      const lon = p.lon0 + (at.x - p.margin) / (p.kx * p.scale);
      const lat = p.lat_top - (at.y - p.margin) / p.scale;
      pin.setAttribute("cx", at.x);
      pin.setAttribute("cy", at.y);
      pin.setAttribute("visibility", "visible");
      send({ location: { lat, lon } }, `📍 ${lat.toFixed(5)}, ${lon.toFixed(5)}`);
    });
    $("map-canvas").replaceChildren(root);
    renderWhere();
  }

  // --- leader side -------------------------------------------------------------------------------

  async function loadStaff() {
    const data = await api(`/staff?lang=${LANG}`);
    state.staff = data.staff;
    const select = $("staff");
    const groups = new Map();
    for (const s of data.staff) {
      const key = s.grid_code || "—";
      if (!groups.has(key)) groups.set(key, el("optgroup", { label: s.grid_code ? `${s.grid_name} (${s.grid_code})` : "—" }));
      groups.get(key).append(el("option", { value: String(s.id), text: staffLabel(s), data: { staff: String(s.id) } }));
    }
    if (!select.querySelector("optgroup")) {
      select.replaceChildren(el("option", { value: "", text: T.pick_staff }), ...groups.values());
    } else {
      for (const s of data.staff) {  // refresh counts without disturbing the open list
        const option = select.querySelector(`option[data-staff="${s.id}"]`);
        if (option) option.textContent = staffLabel(s);
      }
    }
    select.value = state.staffId;
  }

  function staffLabel(s) {
    const open = s.open_pages ? ` · ${fmt(T.open_pages, { count: s.open_pages })}` : "";
    return `${s.name}（${s.role_label}）${open}`;
  }

  function openInbox(staffId, caseId) {
    state.staffId = String(staffId);
    store.set("staff", state.staffId);
    $("staff").value = state.staffId;
    state.lastInbox = "";
    if (caseId) selectCase(caseId);
    pollInbox().catch(offline);
  }

  async function pollInbox() {
    if (!state.staffId) return;
    if (state.reassigning) return;  // do not redraw under an open form
    const data = await api(`/inbox/${state.staffId}?lang=${LANG}`);
    const key = JSON.stringify([data, state.results, state.caseId]);
    if (key === state.lastInbox) return;
    state.lastInbox = key;
    const cards = data.pages.map(pageCard);
    if (!cards.length) cards.push(el("li", { class: "empty", text: T.no_pages }));
    $("pages").replaceChildren(...cards);
  }

  function pageCard(page) {
    const c = page.case;
    const result = state.results[page.page_id];
    const closed = c.status === "closed" || page.status === "expired";
    return el("li", {
      class: `page p-${c.priority}${String(c.id) === String(state.caseId) ? " selected" : ""}${closed ? " closed" : ""}`,
      onclick: () => selectCase(c.id),
    },
    el("div", { class: "head" },
      el("span", { text: `#${c.ref}` }),
      c.priority !== "normal" ? el("span", { class: `badge ${c.priority}`, text: c.priority_label }) : null,
      el("span", { text: c.category_label }),
      el("span", { class: `badge s-${c.status}`, text: `${T.case_status} · ${c.status_label}` }),
      el("span", { class: "badge", text: `${T.page_status} · ${page.status_label}` })),
    el("p", { class: "summary", text: c.summary }),
    el("div", { class: "facts" },
      el("span", { text: c.grid_name }),
      c.address ? el("span", { text: c.address }) : null,
      c.report_count > 1 ? el("span", { text: fmt(T.reports, { count: c.report_count }) }) : null,
      el("span", { text: page.created_at.local })),
    page.channel !== "web" ? el("p", { class: "via", text: fmt(T.other_channel, { channel: page.channel_label }) }) : null,
    page.actions.length ? el("div", { class: "actions" }, page.actions.map((a) =>
      el("button", { type: "button", class: a.action, text: a.label,
        onclick: (event) => { event.stopPropagation(); act(page, a.action); } }))) : null,
    closed ? null : el("label", { class: "photo", onclick: (event) => event.stopPropagation() },
      el("span", { text: T.add_photo }),
      el("input", { type: "file", accept: "image/jpeg,image/png,image/webp",
        onchange: (event) => uploadPhoto(page, event.target.files[0]) })),
    result ? el("div", { class: `result${result.ok ? "" : " bad"}`, text: result.text }) : null);
  }

  async function uploadPhoto(page, file) {
    if (!file) return;
    const form = new FormData();
    form.append("staff_id", state.staffId);
    form.append("page_id", String(page.page_id));
    form.append("photo", file);
    try {
      const response = await fetch(`${API}/evidence?lang=${LANG}`, { method: "POST", body: form });
      const result = await response.json().catch(() => ({}));
      state.results[page.page_id] = { ok: response.ok, text: result.text || (result.detail && result.detail.message) || "" };
    } catch (error) {
      state.results[page.page_id] = { ok: false, text: String(error.message || error) };
    }
    state.lastInbox = "";
    selectCase(page.case.id);
    await pollInbox().catch(offline);
  }

  async function act(page, action, toStaffId) {
    if (action === "reassign" && !toStaffId) return askReassign(page);
    const body = { staff_id: Number(state.staffId), page_id: page.page_id, action };
    if (toStaffId) body.to_staff_id = Number(toStaffId);
    try {
      const result = await api(`/actions?lang=${LANG}`, { body, acceptErrors: true });
      state.results[page.page_id] = { ok: !!result.ok, text: result.text || (result.detail && result.detail.message) || "" };
    } catch (error) {
      state.results[page.page_id] = { ok: false, text: String(error.message || error) };
    }
    state.reassigning = null;
    selectCase(page.case.id);
    await Promise.all([pollInbox(), pollChat(), loadStaff()]).catch(offline);
    setTimeout(tick, 500);
  }

  function askReassign(page) {
    state.reassigning = page.page_id;
    // Only the people who can take the case (the server's list, its own grid first): the core refuses anyone else.
    const choices = page.reassign_to;
    if (!choices.length) {
      state.reassigning = null;
      state.results[page.page_id] = { ok: false, text: T.reassign_nobody };
      state.lastInbox = "";
      return pollInbox().catch(offline);
    }
    const select = el("select", {}, choices.map((s) =>
      el("option", { value: String(s.id), text: `${s.name}（${s.role_label}）· ${s.grid_name}` })));
    const form = el("div", { class: "reassign-form", onclick: (e) => e.stopPropagation() },
      el("span", { text: T.reassign_to }), select,
      el("button", { type: "button", text: T.confirm, onclick: () => act(page, "reassign", select.value) }),
      el("button", { type: "button", class: "secondary", text: T.cancel,
        onclick: () => { state.reassigning = null; state.lastInbox = ""; pollInbox().catch(offline); } }));
    const card = [...$("pages").children].find((li) => li.querySelector(".head span").textContent === `#${page.case.ref}`);
    if (card) card.append(form);
  }

  function selectCase(caseId) {
    state.caseId = String(caseId);
    store.set("case", state.caseId);
    state.lastCase = "";
    state.lastInbox = "";
    pollCase().catch(offline);
  }

  async function pollCase() {
    if (!state.caseId) return;
    let data;
    try {
      data = await api(`/cases/${state.caseId}?lang=${LANG}`);
    } catch (error) {
      state.caseId = "";
      return;
    }
    const key = JSON.stringify(data);
    if (key === state.lastCase) return;
    state.lastCase = key;
    const c = data.case;
    $("case-head").replaceChildren(
      el("div", { class: "head" },
        el("strong", { text: `#${c.ref} ${c.category_label}` }), " ",
        el("span", { class: `badge ${c.priority}`, text: c.priority_label }), " ",
        el("span", { class: `badge s-${c.status}`, text: c.status_label })),
      el("p", { class: "summary", text: c.summary }),
      el("div", { class: "facts" },
        el("span", { text: c.grid_name }),
        c.acknowledged_by ? el("span", { text: ` · ${T.acknowledged_by}: ${c.acknowledged_by}` }) : null,
        c.rating ? el("span", { text: ` · ${T.rating}: ${"★".repeat(c.rating)}` }) : null),
      c.explanation && c.explanation.length ? el("details", {},
        el("summary", { text: T.why }),
        el("ul", {}, c.explanation.map((e) => el("li", { text: `${e.decision || ""}: ${e.text || ""}` })))) : null);
    $("entries").replaceChildren(...data.entries.map(entry));
  }

  function entry(e) {
    const time = el("time", { datetime: e.at ? e.at.utc : "", text: e.at ? e.at.local.slice(6) : "" });
    if (e.kind === "event" && e.photo_url) {
      return el("li", { class: "event" }, time, e.text, e.note ? ` — ${e.note}` : "",
        el("a", { href: e.photo_url, target: "_blank", rel: "noopener" },
          el("img", { class: "evidence", src: e.photo_url, alt: e.text, loading: "lazy" })));
    }
    if (e.kind === "event") return el("li", { class: "event" }, time, e.text);
    const who = e.sender_kind === "staff" ? (e.staff_name || T.from_staff)
      : e.direction === "in" ? T.from_resident : `${T.from_system} → ${T.from_resident}`;
    const options = e.options.length ? ` [${e.options.map((o) => o.label).join(" | ")}]` : "";
    return el("li", { class: "message" }, time, el("span", { class: "who", text: `${who}（${e.channel}）` }), e.text + options);
  }

  // --- wiring ------------------------------------------------------------------------------------

  function offline(error) {
    console.warn(error);
    setBanner(T.network_error);
  }

  let busy = false;
  async function tick() {
    if (busy) return;
    busy = true;
    try {
      await Promise.all([pollChat(), pollInbox(), pollCase()]);
    } catch (error) {
      offline(error);
    } finally {
      busy = false;
    }
  }

  function examples() {
    const box = $("examples");
    for (const text of T.examples.split("|")) {
      box.append(el("button", { type: "button", text, onclick: () => send({ text }, text) }));
    }
  }

  document.addEventListener("DOMContentLoaded", async () => {
    examples();
    $("composer").addEventListener("submit", (event) => {
      event.preventDefault();
      const input = $("text");
      const text = input.value.trim();
      if (!text) return;
      input.value = "";
      send({ text }, text);
    });
    $("who").addEventListener("change", (event) => chooseResident(event.target.value));
    $("new-session").addEventListener("click", () => {
      state.session = uuid().replace(/-/g, "");
      store.set("session", state.session);
      $("who").value = "";
      chooseResident("");
    });
    $("staff").addEventListener("change", (event) => {
      state.staffId = event.target.value;
      store.set("staff", state.staffId);
      state.lastInbox = "";
      pollInbox().catch(offline);
    });
    $("map-toggle").addEventListener("click", () => toggleMap().catch(offline));
    document.querySelectorAll("[data-command]").forEach((button) => {
      button.addEventListener("click", () => send({ command: button.dataset.command }, button.textContent));
    });
    try {
      await Promise.all([loadResidents(), loadStaff()]);
    } catch (error) {
      offline(error);
    }
    renderChat(true);
    await tick();
    setInterval(tick, POLL_MS);
    setInterval(() => loadStaff().catch(offline), POLL_MS * 4);
  });
})();
