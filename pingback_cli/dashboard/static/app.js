// The dashboard's behaviour: times, theme, live updates over Server-Sent Events (polling when
// the stream drops), the Run and Replay forms, actions and copy buttons, keyboard shortcuts.
// Plain JavaScript, no build step. Never inserts user text as HTML: live updates swap regions
// of a page the server rendered (and escaped) itself.
"use strict";

const store = {
  get(key, fallback) { try { return localStorage.getItem("pingback." + key) ?? fallback; } catch (e) { return fallback; } },
  set(key, value) { try { localStorage.setItem("pingback." + key, value); } catch (e) { /* ignore */ } },
};
let csrf = document.querySelector('meta[name="csrf-token"]').content;  // renewed by a restarted server's pages
const page = document.body.dataset.page || "";

// --- time -------------------------------------------------------------------------------
const pad = (n, w = 2) => String(n).padStart(w, "0");
function zoneName(date) {
  const part = new Intl.DateTimeFormat(undefined, { timeZoneName: "short" }).formatToParts(date).find((p) => p.type === "timeZoneName");
  return part ? part.value : "";
}
function relative(ms) {
  const diff = ms - Date.now(), abs = Math.abs(diff) / 1000;
  let text;
  if (abs < 1) return "now";
  if (abs < 60) text = abs.toFixed(0) + " s";
  else if (abs < 3600) text = Math.floor(abs / 60) + " min " + Math.floor(abs % 60) + " s";
  else if (abs < 86400) text = Math.floor(abs / 3600) + " h " + Math.floor((abs % 3600) / 60) + " min";
  else text = Math.floor(abs / 86400) + " d";
  return diff > 0 ? "in " + text : text + " ago";
}
function formatTime(date, mode, short, minute) {
  if (mode === "relative") return relative(date.getTime());
  const utc = mode === "utc";
  const y = utc ? date.getUTCFullYear() : date.getFullYear();
  const mo = utc ? date.getUTCMonth() + 1 : date.getMonth() + 1;
  const d = utc ? date.getUTCDate() : date.getDate();
  const h = utc ? date.getUTCHours() : date.getHours();
  const mi = utc ? date.getUTCMinutes() : date.getMinutes();
  const s = utc ? date.getUTCSeconds() : date.getSeconds();
  const ms = utc ? date.getUTCMilliseconds() : date.getMilliseconds();
  const clock = minute ? `${pad(h)}:${pad(mi)}` : `${pad(h)}:${pad(mi)}:${pad(s)}.${pad(ms, 3)}`;
  const zone = utc ? "UTC" : zoneName(date);
  if (short) return `${clock} ${zone}`;
  return `${y}-${pad(mo)}-${pad(d)} ${clock} ${zone}`;
}
function renderTimes(root = document) {
  const mode = store.get("time", "local");
  for (const el of root.querySelectorAll("time[datetime]")) {
    const date = new Date(el.getAttribute("datetime"));
    if (isNaN(date)) continue;
    if (el.hasAttribute("data-countdown")) {
      el.textContent = relative(date.getTime());
      el.title = formatTime(date, mode === "relative" ? "local" : mode, false);
      continue;
    }
    el.textContent = formatTime(date, mode, el.hasAttribute("data-short"), el.hasAttribute("data-minute"));
    el.title = formatTime(date, mode === "utc" ? "local" : "utc", false);
  }
}
const timeMode = document.getElementById("time-mode");
timeMode.value = store.get("time", "local");
timeMode.addEventListener("change", () => { store.set("time", timeMode.value); renderTimes(); });
setInterval(() => {
  if (store.get("time", "local") === "relative") renderTimes();
  else for (const el of document.querySelectorAll("time[data-countdown]")) el.textContent = relative(new Date(el.getAttribute("datetime")).getTime());
}, 1000);

// --- theme ------------------------------------------------------------------------------
document.getElementById("theme-toggle").addEventListener("click", () => {
  const current = document.documentElement.dataset.theme ||
    (matchMedia("(prefers-color-scheme: dark)").matches ? "dark" : "light");
  const next = current === "dark" ? "light" : "dark";
  document.documentElement.dataset.theme = next;
  store.set("theme", next);
});

// --- live updates -----------------------------------------------------------------------
const live = { paused: false, busy: false, again: false, dirty: false, pressed: false, poller: null, source: null };
// Each live region's HTML as the server last sent it (read before renderTimes rewrites its times):
// a region that comes back the same is left alone, so its focus, selection and a click in
// progress on it survive the update.
const served = new Map([...document.querySelectorAll("[data-live]")].map((el) => [el.id, el.outerHTML]));
// A click is a press then a release on the same element: a region swapped in between would
// lose it (the browser sends the click to no button). Swaps wait while a button is pressed.
addEventListener("pointerdown", () => { live.pressed = true; }, true);
function released(event) {
  if (event.type === "blur" && event.target !== window) return;  // an element's, not the window's
  live.pressed = false;
  if (live.dirty && !live.paused) refresh();  // its fetch resolves after this click's events
}
for (const type of ["pointerup", "pointercancel", "blur"]) addEventListener(type, released, true);
const liveToggle = document.getElementById("live-toggle");
const liveStatus = document.getElementById("live-status");
liveToggle.checked = store.get("live", "on") === "on";
live.paused = !liveToggle.checked;
liveToggle.addEventListener("change", () => {
  live.paused = !liveToggle.checked;
  store.set("live", live.paused ? "off" : "on");
  liveStatus.textContent = live.paused ? "paused" : "";
  if (!live.paused && live.dirty) refresh();
});

function openKeys() {
  const open = new Set();
  for (const el of document.querySelectorAll("details[data-key]")) if (el.open) open.add(el.dataset.key);
  return open;
}
async function refresh() {
  if (live.paused || live.pressed) { live.dirty = true; return; }
  if (live.busy) { live.again = true; return; }
  live.busy = true; live.dirty = false;
  try {
    const response = await fetch(location.href, { headers: { "X-Pingback-Live": "1" }, cache: "no-store" });
    if (!response.ok) return;
    const fresh = new DOMParser().parseFromString(await response.text(), "text/html");
    serverUp(fresh);
    if (live.pressed) { live.dirty = true; return; }  // pressed while fetching: swap on release
    const before = new Set(document.querySelectorAll("details[data-key]").length ? [...document.querySelectorAll("details[data-key]")].map((d) => d.dataset.key) : []);
    const open = openKeys();
    for (const region of fresh.querySelectorAll("[data-live]")) {
      const current = document.getElementById(region.id);
      const html = region.outerHTML;
      if (!current || served.get(region.id) === html) continue;
      served.set(region.id, html);
      current.replaceWith(document.adoptNode(region));
    }
    for (const el of document.querySelectorAll("details[data-key]")) {
      if (before.has(el.dataset.key)) el.open = open.has(el.dataset.key);
    }
    renderTimes();
    applyLevels();
  } catch (e) {
    if (e instanceof TypeError) serverDown();  // no answer at all; the next event or poll tries again
  } finally {
    live.busy = false;
    if (live.again) { live.again = false; refresh(); }
  }
}
function wanted(message) {
  if (page !== "execution") return true;
  const root = document.body.dataset.root;
  return message.kinds.includes("changed") || message.roots.includes(root) || message.ids.includes(document.body.dataset.execution);
}
// --- the server's own state: "stopped" once it answers nothing, back when it does --------
const server = { down: false };
function downMessage() {
  const command = document.body.dataset.mode === "history" ? "pingback ui" : "pingback dev";
  return `${command} is not running — start it with \`${command}\``;
}
function serverDown() {
  if (server.down) return;
  server.down = true;
  const state = document.getElementById("emulator-state");
  const pill = document.createElement("span");
  pill.className = "pill pill-failed";
  pill.textContent = "stopped";
  pill.title = downMessage();
  state.replaceChildren(pill);
  served.delete(state.id);  // no longer what the server sent: the next answer replaces it
}
function serverUp(fresh) {
  // A page from the server: it answers again (maybe a new process, with a new CSRF token).
  const token = fresh && fresh.querySelector('meta[name="csrf-token"]');
  if (token) csrf = token.content;
  if (!server.down) return;
  server.down = false;
  const error = document.getElementById("action-error");
  if (error && error.textContent === downMessage()) error.textContent = "";
}
async function checkServer() {
  try {
    const response = await fetch(location.href, { headers: { "X-Pingback-Live": "1" }, cache: "no-store" });
    if (response.ok) serverUp(new DOMParser().parseFromString(await response.text(), "text/html"));
  } catch (e) { serverDown(); }
}

function startPolling() {
  if (live.poller) return;
  liveStatus.textContent = live.paused ? "paused" : "stream lost: polling";
  live.poller = setInterval(refresh, 2000);
}
function stopPolling() {
  if (live.poller) { clearInterval(live.poller); live.poller = null; }
  liveStatus.textContent = live.paused ? "paused" : "";
}
function connect() {
  if (!window.EventSource) { startPolling(); return; }
  const source = new EventSource("/events");
  live.source = source;
  source.addEventListener("open", () => {
    // Catch up on what happened between the page's rendering (or the stream's loss) and now.
    if (server.down) checkServer().then(() => refresh());
    else if (live.poller || document.querySelector(".pill-running, .pill-pending")) refresh();
    stopPolling();
  });
  source.addEventListener("change", (event) => { if (wanted(JSON.parse(event.data))) refresh(); });
  source.addEventListener("error", () => {
    checkServer();
    startPolling();
    if (source.readyState === EventSource.CLOSED) setTimeout(connect, 2000);
  });
}
if (page) connect();

// --- requests ---------------------------------------------------------------------------
async function post(action, body) {
  let response;
  try {
    response = await fetch("/actions/" + action, {
      method: "POST",
      headers: { "Content-Type": "application/json", "X-Pingback-CSRF": csrf },
      body: JSON.stringify(body),
    });
  } catch (e) {
    serverDown();  // no answer: the server is gone, not the action refused
    throw new Error(downMessage());
  }
  let data = {};
  try { data = await response.json(); } catch (e) { data = { error: await response.text().catch(() => "") }; }
  if (!response.ok) throw new Error(data.error || `HTTP ${response.status}`);
  return data;
}
function showActionError(message) {
  const el = document.getElementById("action-error");
  if (el) el.textContent = message; else alert(message);
}
function toast(text) {
  const el = document.createElement("div");
  el.className = "toast"; el.setAttribute("role", "status"); el.textContent = text;
  document.body.append(el);
  setTimeout(() => el.remove(), 1500);
}
async function copyText(text) {
  try { await navigator.clipboard.writeText(text); toast("Copied"); }
  catch (e) { window.prompt("Copy this:", text); }
}

document.addEventListener("click", async (event) => {
  const button = event.target.closest("button");
  if (!button) return;
  if (button.dataset.copy !== undefined) { copyText(button.dataset.copy); return; }
  if (button.dataset.raw) {
    const response = await fetch(button.dataset.raw, { cache: "no-store" });
    copyText(await response.text());
    return;
  }
  if (button.classList.contains("action")) {
    const body = button.dataset.execution ? { executionId: button.dataset.execution } : { function: button.dataset.function };
    button.disabled = true;
    try { await post(button.dataset.action, body); showActionError(""); await refresh(); }
    catch (e) { showActionError(e.message); }
    finally { button.disabled = false; }
  }
});

// --- JSON editors -----------------------------------------------------------------------
function parsePayload(text) {
  // Returns {empty} | {value} | {error: "line L, column C: message"}.
  if (!text.trim()) return { empty: true };
  try { return { value: JSON.parse(text) }; }
  catch (e) {
    const message = String(e.message);
    let line, column;
    const lc = message.match(/line (\d+) column (\d+)/);
    const at = message.match(/position (\d+)/);
    if (lc) { line = +lc[1]; column = +lc[2]; }
    else {
      const offset = at ? +at[1] : text.length;
      const before = text.slice(0, offset).split("\n");
      line = before.length; column = before[before.length - 1].length + 1;
    }
    const reason = message.replace(/^JSON\.parse: /, "").replace(/\s*\(line \d+ column \d+\)/, "").replace(/ in JSON at position \d+/, "");
    return { error: `Invalid JSON at line ${line}, column ${column}: ${reason}`, line, column };
  }
}
function editorError(form, parsed) {
  const error = form.querySelector("#payload-error");
  const textarea = form.querySelector("#payload");
  error.textContent = parsed.error || "";
  textarea.setAttribute("aria-invalid", parsed.error ? "true" : "false");
  if (parsed.error) {
    const lines = textarea.value.split("\n");
    let offset = 0;
    for (let i = 0; i < parsed.line - 1 && i < lines.length; i++) offset += lines[i].length + 1;
    textarea.focus();
    textarea.setSelectionRange(offset + parsed.column - 1, offset + parsed.column);
  }
}
const shellQuote = (text) => "'" + text.replace(/'/g, "'\\''") + "'";

const runForm = document.getElementById("run-form");
if (runForm) {
  const name = document.body.dataset.function;
  const textarea = runForm.querySelector("#payload");
  const key = "payload." + name;
  const picker = document.getElementById("payload-picker");
  textarea.value = store.get(key, "");
  if (!textarea.value && picker && picker.options.length > 1) {
    // Nothing run from this browser yet: start from the newest payload history has.
    try { textarea.value = JSON.stringify(JSON.parse(picker.options[1].value), null, 2); } catch (e) { /* keep empty */ }
  }
  if (picker) picker.addEventListener("change", () => {
    if (!picker.value) return;
    try { textarea.value = JSON.stringify(JSON.parse(picker.value), null, 2); } catch (e) { textarea.value = picker.value; }
  });
  const compact = () => { const p = parsePayload(textarea.value); return p.error ? null : p; };
  document.getElementById("copy-trigger").addEventListener("click", () => {
    const p = compact(); if (!p) { editorError(runForm, parsePayload(textarea.value)); return; }
    copyText(`pingback trigger ${shellQuote(name)}` + (p.empty ? "" : ` --payload ${shellQuote(JSON.stringify(p.value))}`));
  });
  document.getElementById("copy-curl").addEventListener("click", () => {
    const p = compact(); if (!p) { editorError(runForm, parsePayload(textarea.value)); return; }
    const body = p.empty ? { task: name } : { task: name, payload: p.value };
    copyText(`curl -X POST ${location.origin}/api/v1/trigger -H 'Content-Type: application/json'` +
      ` -H "Authorization: Bearer $PINGBACK_API_KEY" -d ${shellQuote(JSON.stringify(body))}`);
  });
  runForm.addEventListener("submit", async (event) => {
    event.preventDefault();
    const parsed = parsePayload(textarea.value);
    editorError(runForm, parsed);
    if (parsed.error) return;
    store.set(key, textarea.value);
    try {
      const answer = await post("run", parsed.empty ? { function: name } : { function: name, payload: parsed.value });
      location.assign(answer.url);
    } catch (e) { showActionError(e.message); }
  });
}

const replayPanel = document.getElementById("replay-panel");
if (replayPanel) {
  const form = document.getElementById("replay-form");
  document.getElementById("replay-open").addEventListener("click", () => { replayPanel.hidden = false; form.querySelector("#payload").focus(); });
  document.getElementById("replay-close").addEventListener("click", () => { replayPanel.hidden = true; });
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const parsed = parsePayload(form.querySelector("#payload").value);
    editorError(form, parsed);
    if (parsed.error) return;
    const body = { executionId: document.body.dataset.execution };
    if (!parsed.empty) body.payload = parsed.value;
    try { location.assign((await post("replay", body)).url); } catch (e) { showActionError(e.message); }
  });
}

// --- log levels ---------------------------------------------------------------------------
function applyLevels() {
  const hidden = new Set(JSON.parse(store.get("hiddenLevels", "[]")));
  for (const box of document.querySelectorAll(".level-toggle")) box.checked = !hidden.has(box.value);
  for (const row of document.querySelectorAll("#logs-section tr[data-level]")) row.hidden = hidden.has(row.dataset.level);
}
document.addEventListener("change", (event) => {
  if (!event.target.classList.contains("level-toggle")) return;
  const hidden = [...document.querySelectorAll(".level-toggle")].filter((b) => !b.checked).map((b) => b.value);
  store.set("hiddenLevels", JSON.stringify(hidden));
  applyLevels();
});

// --- keyboard -----------------------------------------------------------------------------
document.addEventListener("keydown", (event) => {
  const typing = /^(INPUT|TEXTAREA|SELECT)$/.test(document.activeElement.tagName) || document.activeElement.isContentEditable;
  if (event.key === "Escape") {
    if (replayPanel && !replayPanel.hidden) replayPanel.hidden = true;
    if (document.activeElement && document.activeElement !== document.body) document.activeElement.blur();
    return;
  }
  if (typing || event.ctrlKey || event.metaKey || event.altKey) return;
  if (event.key === "/") {
    const search = document.getElementById("search");
    if (search) { event.preventDefault(); search.focus(); search.select(); }
  } else if (event.key === "r" && runForm) {
    event.preventDefault();
    document.getElementById("run").open = true;
    runForm.querySelector("#payload").focus();
  }
});

renderTimes();
applyLevels();
