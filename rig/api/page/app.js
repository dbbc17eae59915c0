// The operator page: signs in with a token, follows every nest of this rigd over the event
// WebSocket and lets an operator scan, start and abort on the nests their token is assigned.
import { LANGUAGES, t, setLanguage, language, pickLanguage } from "./i18n.js";
import { call, Events } from "./api.js";
import { h, renderTile, mayAbort } from "./tiles.js";
import * as sound from "./sound.js";

const $ = (id) => document.getElementById(id);
const ARM_MS = 3000;  // an abort is confirmed by a second tap within this time

const page = {
  token: null,
  who: null,
  nests: new Map(),  // id -> nest view (+ _received: when it arrived, for the step's clock)
  selected: null,  // the nest the scan field feeds
  messages: new Map(),  // id -> the last refusal shown on its tile
  armed: new Map(),  // id -> abort armed until (ms)
  conn: "connecting",
  events: null,
  scanMessage: { text: "", bad: false },
};

function mayWork(id) {
  const w = page.who;
  if (!w) return false;
  return w.role === "engineer" || (w.role === "operator" && w.nests.includes(id));
}

function scanTargets() {
  return [...page.nests.values()].filter((n) => n.scanner === "page" && mayWork(n.id)).map((n) => n.id);
}

// ---- rendering ---------------------------------------------------------------------------

function renderChrome() {
  document.documentElement.lang = language();
  document.title = t("title");
  for (const el of document.querySelectorAll("[data-i18n]")) el.textContent = t(el.dataset.i18n);
  $("token").placeholder = "rig_…";
  $("scan").placeholder = t("scan_placeholder");
  $("conn").textContent = t(page.conn);
  $("conn").dataset.conn = page.conn;
  $("who").textContent = page.who ? t("signed_in_as", { name: page.who.name, role: page.who.role }) + ([...page.nests.keys()].some(mayWork) ? "" : " · " + t("watch_only")) : "";
  $("sound").textContent = sound.isEnabled() ? t("sound_on") : t("sound_off");
  $("sound").setAttribute("aria-pressed", String(sound.isEnabled()));
  for (const nav of ["langs", "signin-langs"])
    $(nav).replaceChildren(...LANGUAGES.map((l) => h("button", {
      type: "button", "data-lang": l.code, "aria-pressed": String(l.code === language()), onclick: () => chooseLanguage(l.code), text: l.label,
    })));
  renderScanBar();
}

function renderScanBar() {
  const targets = scanTargets();
  $("scanbar").hidden = targets.length === 0;
  if (!targets.length) return;
  if (!targets.includes(page.selected)) page.selected = targets[0];
  $("scan-label").textContent = t("scan_label", { nest: page.selected });
  $("scan-targets").replaceChildren(...(targets.length > 1 ? targets.map((id) => h("button", {
    type: "button", "data-nest": id, "aria-pressed": String(id === page.selected), onclick: () => select(id), text: id,
  })) : []));
  $("scan-message").textContent = page.scanMessage.text;
  $("scan-message").classList.toggle("bad", page.scanMessage.bad);
}

function renderNest(id, now = Date.now()) {
  const n = page.nests.get(id);
  const tile = renderTile(n, {
    selected: id === page.selected && scanTargets().length > 1,
    mayWork: mayWork(id),
    armed: page.armed.get(id) || 0,
    message: page.messages.get(id),
    onSelect: () => scanTargets().includes(id) && select(id),
    onStart: start,
    onAbort: abort,
  }, now);
  const old = document.querySelector(`#nests > [data-nest="${CSS.escape(id)}"]`);
  if (old) old.replaceWith(tile);
  else $("nests").append(tile);
}

function renderAll() {
  renderChrome();
  $("nests").replaceChildren();
  if (page.who && page.nests.size === 0) $("nests").append(h("p", { class: "empty", text: t("no_nests") }));
  const now = Date.now();
  for (const id of page.nests.keys()) renderNest(id, now);
  document.body.dataset.nests = String(page.nests.size);
  document.body.classList.toggle("many", page.nests.size > 4);  // 8 nests fit 1280x800 unscrolled
}

// ---- events from rigd --------------------------------------------------------------------

function onEvent(msg) {
  const now = Date.now();
  if (msg.type === "snapshot") {
    page.nests.clear();
    for (const n of msg.nests) page.nests.set(n.id, { ...n, _received: now });
    return renderAll();
  }
  const n = { ...msg.nest, _received: now };
  const before = page.nests.get(n.id);
  page.nests.set(n.id, n);
  if (msg.type === "verdict" && n.last) sound.play(n.last.verdict);
  if (n.state === "aborted" && before && before.state !== "aborted") sound.play("aborted");
  if (before && before.state !== n.state && n.state === "running") page.messages.delete(n.id);
  if (!before) return renderAll();
  renderNest(n.id, now);
}

function onStatus(conn) {
  page.conn = conn;
  renderChrome();
}

// ---- the operator's requests -------------------------------------------------------------

async function request(id, action, path, body) {
  try {
    // The nest's new state arrives on the event stream, in order; the reply's copy may be older.
    await call(page.token, "POST", path, body);
    page.messages.delete(id);
    return true;
  } catch (e) {
    if (e.status === 401) signOut(t("token_refused", { why: e.message }));
    page.messages.set(id, t("request_failed", { action: t("action." + action), why: e.message }));
    return false;
  } finally {
    if (page.nests.has(id)) renderNest(id);
  }
}

function start(n, event) {
  event.stopPropagation();
  // A keyboard's Enter or Space (a scanner's Enter included) never starts a test: only a touch
  // or a click on START does, and only with the lid closed on a unit that has its serial.
  if (event.detail === 0) return;
  request(n.id, "start", `/api/v1/nests/${encodeURIComponent(n.id)}/start`);
}

function abort(n, event) {
  event.stopPropagation();
  const now = Date.now();
  if ((page.armed.get(n.id) || 0) > now) {
    page.armed.delete(n.id);
    request(n.id, "abort", `/api/v1/nests/${encodeURIComponent(n.id)}/abort`);
    return;
  }
  page.armed.set(n.id, now + ARM_MS);
  renderNest(n.id, now);
}

function select(id) {
  page.selected = id;
  renderAll();
  focusScan();
}

function patternProblem(n, serial) {
  if (!n.serial_pattern) return null;
  let re;
  try {
    re = new RegExp(n.serial_pattern);
  } catch {
    return null;  // rigd checks it with its own engine
  }
  return re.test(serial) ? null : t("scan_pattern", { serial, pattern: n.serial_pattern, variant: n.variant });
}

async function scan(raw) {
  const serial = raw.trim();
  if (!serial) return;
  const id = page.selected;
  const n = page.nests.get(id);
  if (!n) return;
  const problem = patternProblem(n, serial);
  if (problem) {
    page.scanMessage = { text: problem, bad: true };
    sound.play("fail");
    return renderScanBar();
  }
  page.scanMessage = { text: t("scan_busy"), bad: false };
  renderScanBar();
  const ok = await request(id, "scan", `/api/v1/nests/${encodeURIComponent(id)}/scan`, { serial });
  page.scanMessage = ok ? { text: t("scan_sent", { serial, nest: id }), bad: false } : { text: page.messages.get(id), bad: true };
  if (ok) {
    // The next scan goes to the next nest that waits for one.
    const free = scanTargets().find((t2) => t2 !== id && ["idle", "loaded"].includes(page.nests.get(t2).state) && !page.nests.get(t2).scanned && !page.nests.get(t2).serial);
    if (free) page.selected = free;
  }
  renderAll();
}

// ---- the scan field keeps the focus --------------------------------------------------------

function dialogOpen() { return $("signin").open; }

function focusScan() {
  if (dialogOpen() || $("scanbar").hidden) return;
  if (document.activeElement !== $("scan")) $("scan").focus({ preventScroll: true });
}

function wireScanField() {
  const input = $("scan");
  input.addEventListener("keydown", (e) => {
    if (e.key !== "Enter") return;
    e.preventDefault();  // Enter submits the scan and nothing else
    const value = input.value;
    input.value = "";
    scan(value);
  });
  document.addEventListener("focusout", () => setTimeout(focusScan, 0));
  document.addEventListener("pointerup", () => setTimeout(focusScan, 0));
  // Keys typed while something else had the focus still reach the field.
  document.addEventListener("keydown", (e) => {
    if (dialogOpen() || $("scanbar").hidden || e.target === input) return;
    if (e.key === "Enter" || e.key === " ") e.preventDefault();
    if (e.key.length === 1 && !e.ctrlKey && !e.metaKey && !e.altKey) {
      e.preventDefault();
      input.value += e.key;
    }
    focusScan();
  });
}

// ---- signing in ------------------------------------------------------------------------------

function showSignIn(error) {
  $("signin-error").textContent = error || "";
  $("token").value = "";
  if (!$("signin").open) $("signin").showModal();
  $("token").focus();
}

function signOut(error) {
  if (page.events) page.events.close();
  page.events = null;
  page.token = null;
  page.who = null;
  page.nests.clear();
  localStorage.removeItem("rig.token");
  renderAll();
  showSignIn(error);
}

async function signIn(token) {
  try {
    page.who = await call(token, "GET", "/api/v1/whoami");
  } catch (e) {
    if (e.status === 0) {  // rigd not reachable yet: try again
      page.conn = "offline";
      renderChrome();
      setTimeout(() => signIn(token), 2000);
      return;
    }
    return signOut(t("token_refused", { why: e.message }));
  }
  page.token = token;
  localStorage.setItem("rig.token", token);
  if ($("signin").open) $("signin").close();
  const data = await call(token, "GET", "/api/v1/nests").catch(() => ({ nests: [] }));
  for (const n of data.nests) page.nests.set(n.id, { ...n, _received: Date.now() });
  renderAll();
  page.events = new Events(token, onEvent, onStatus, (why) => signOut(t("token_refused", { why })));
  focusScan();
}

function chooseLanguage(code) {
  setLanguage(code);
  localStorage.setItem("rig.lang", code);
  renderAll();
  if (dialogOpen()) $("token").focus();
  focusScan();
}

function init() {
  setLanguage(pickLanguage(localStorage.getItem("rig.lang"), navigator.language));
  sound.setEnabled(localStorage.getItem("rig.sound") !== "off");
  for (const type of ["pointerdown", "keydown"]) document.addEventListener(type, sound.unlock, { capture: true });
  $("sound").addEventListener("click", () => {
    sound.setEnabled(!sound.isEnabled());
    localStorage.setItem("rig.sound", sound.isEnabled() ? "on" : "off");
    renderChrome();
  });
  $("signout").addEventListener("click", () => signOut(""));
  $("signin-form").addEventListener("submit", (e) => {
    e.preventDefault();
    signIn($("token").value.trim());
  });
  $("signin").addEventListener("cancel", (e) => e.preventDefault());  // no way past it without a token
  wireScanField();
  // The step's clock and an armed abort run out without an event from rigd.
  setInterval(() => {
    const now = Date.now();
    for (const [id, n] of page.nests) {
      const armed = page.armed.get(id);
      if (armed && armed <= now) page.armed.delete(id);
      if (n.state === "running" || armed) renderNest(id, now);
    }
  }, 250);
  renderAll();
  const token = localStorage.getItem("rig.token");
  if (token) signIn(token);
  else showSignIn("");
}

init();
