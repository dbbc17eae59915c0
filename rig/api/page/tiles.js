// One tile per nest: what the nest is doing, what the operator does next, and the verdict
// filling the tile once its certificate is committed.
import { t, has, number, quantity } from "./i18n.js";

// h("div", {class: "x", onclick: f}, child...): elements built without innerHTML, so no text
// from rigd (a serial, a reason) is ever parsed as markup.
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith("on")) el.addEventListener(k.slice(2), v);
    else if (k === "text") el.textContent = v;
    else el.setAttribute(k, v === true ? "" : v);
  }
  for (const c of children.flat()) if (c !== null && c !== undefined && c !== false) el.append(c);
  return el;
}

// "motor3.rpm" -> "motor 3", "motor3.current" -> "motor 3 current", "idle_current" -> "idle current".
export function measurementLabel(name) {
  const dot = name.indexOf(".");
  const head = dot < 0 ? "" : name.slice(0, dot);
  const tail = dot < 0 ? name : name.slice(dot + 1);
  let subject = head;
  const m = /^([a-z_]+?)(\d*)$/.exec(head);
  if (m && has("subject." + m[1])) subject = t("subject." + m[1], { n: m[2] }).trim();
  const what = has("quantity." + tail) ? t("quantity." + tail) : tail.replace(/_/g, " ");
  return [subject, what].filter(Boolean).join(" ");
}

export function limitText(m) {
  const l = m.limit_spec;
  if (!l) return m.limit || "";
  const u = l.unit || m.unit;
  switch (l.kind) {
    case "range":
      if (l.min !== undefined && l.max !== undefined) return t("limit_range", { min: number(l.min), max: quantity(l.max, u) });
      if (l.min !== undefined) return t("limit_min", { min: quantity(l.min, u) });
      return t("limit_max", { max: quantity(l.max, u) });
    case "equals":
      return t("limit_equals", { value: typeof l.equals === "number" ? quantity(l.equals, u) : `“${l.equals}”` });
    case "regex":
      return t("limit_regex", { regex: `/${l.regex}/` });
    default:
      return m.limit || "";
  }
}

// "motor 3: 7 386 rpm, limit 8 500–11 500 rpm"
export function failingText(m) {
  const value = typeof m.value === "number" ? quantity(m.value, m.unit) : m.text ? `“${m.text}”` : t("no_value");
  const limit = limitText(m);
  return `${measurementLabel(m.name)}: ${value}${limit ? ", " + limit : ""}`;
}

export function stepName(step) {
  const key = "step." + step.kind;
  return has(key) ? t(key) : step.id;
}

function detailText(detail) {
  if (!detail) return "";
  if (detail === "waiting for a scan") return t("detail.waiting_scan");
  if (detail === "waiting for start") return t("detail.waiting_start");
  if (detail === "waiting for the operator") return t("detail.waiting_operator");
  const by = /^aborted by (.+)$/.exec(detail);
  if (by) return t("detail.aborted_by", { who: by[1] });
  return detail;
}

// What the operator does next at this nest.
export function nextAction(n) {
  const holdsUnit = n.lid_closed || n.dut_present;
  switch (n.state) {
    case "idle":
      return n.scanner === "jig" ? t("do.load") : t("do.scan");
    case "scanned":
      return t("do.load_scanned", { serial: n.scanned });
    case "loaded":
      if (n.detail === "waiting for a scan") return t("do.scan_loaded");
      if (n.detail === "waiting for start") return t("do.start");
      return "";
    case "running":
      return t("do.wait");
    case "verdict":
    case "aborted":
    case "rejected":
      if (!holdsUnit) return "";
      return n.lid_closed ? t("do.unload_open") : t("do.unload_take");
    default:
      return "";
  }
}

export function mayStart(n) {
  return n.start === "operator" && n.state === "loaded" && n.detail === "waiting for start" && n.lid_closed && n.dut_present && !!n.serial;
}

// As rigd's abort: the test under way, a unit waiting for its start, or a scan waiting for its unit.
export function mayAbort(n) {
  return n.state === "running" || n.state === "scanned" || (n.state === "loaded" && !!(n.serial || n.scanned));
}

function verdictBlock(n) {
  if (n.state === "verdict" && n.last) {
    const failing = n.last.failing.slice(0, 4).map((f) => h("li", { text: failingText(f.measurement) }));
    if (n.last.failing.length > 4) failing.push(h("li", { text: t("more_failing", { n: n.last.failing.length - 4 }) }));
    return h("div", { class: "verdict", "data-verdict": n.last.verdict },
      h("div", { class: "verdict-word", text: t("verdict." + n.last.verdict) }),
      h("div", { class: "serial", text: n.last.serial }),
      failing.length ? h("ul", { class: "failing" }, failing) : null,
      n.last.verdict !== "pass" && !failing.length && n.last.summary ? h("div", { class: "summary", text: n.last.summary }) : null,
      h("div", { class: "certificate", text: t("certificate", { seq: n.last.sequence }) }));
  }
  if (n.state === "aborted" || n.state === "rejected") {
    return h("div", { class: "verdict", "data-verdict": n.state },
      h("div", { class: "verdict-word", text: t("state." + n.state) }),
      h("div", { class: "serial", text: n.serial }),
      h("div", { class: "summary", text: detailText(n.detail) }),
      h("div", { class: "certificate", text: t("no_certificate") }));
  }
  return null;
}

function progressBlock(n, now) {
  if (n.state !== "running" || !n.step) return null;
  const s = n.step;
  const elapsed = s.elapsed_s + (now - (n._received || now)) / 1000;
  const overall = (s.index - 1 + Math.min(1, s.timeout_s > 0 ? elapsed / s.timeout_s : 0)) / s.count;
  return h("div", { class: "progress" },
    h("div", { class: "step-name", text: stepName(s) }),
    h("div", { class: "step-of", text: t("step_of", { index: s.index, count: s.count }) }),
    h("progress", { max: "1000", value: String(Math.round(overall * 1000)) }),
    h("div", { class: "elapsed", text: t("elapsed", { elapsed: number(elapsed, 1), timeout: number(s.timeout_s, 0) }) }));
}

// ui: {selected, mayWork, armed (abort armed until), onSelect, onStart, onAbort}
export function renderTile(n, ui, now) {
  const verdict = verdictBlock(n);
  const buttons = [];
  if (ui.mayWork && mayStart(n)) buttons.push(h("button", { class: "start", type: "button", onclick: (e) => ui.onStart(n, e), text: t("start") }));
  if (ui.mayWork && mayAbort(n)) {
    const armed = ui.armed > now;
    buttons.push(h("button", { class: "abort" + (armed ? " armed" : ""), type: "button", onclick: (e) => ui.onAbort(n, e), text: armed ? t("abort_confirm") : t("abort") }));
  }
  const next = nextAction(n);
  const tile = h("section", {
      class: "tile" + (ui.selected ? " selected" : "") + (verdict ? " has-verdict" : ""),
      "data-nest": n.id, "data-state": n.state, onclick: () => ui.onSelect(n),
    },
    h("header", {},
      h("div", { class: "nest-id", text: t("nest", { nest: n.id }) }),
      h("div", { class: "state", text: t("state." + n.state) })),
    h("div", { class: "variant", text: t("variant_lot", { variant: n.variant, lot: n.lot || "—" }) }),
    verdict || h("div", { class: "unit" },
      h("div", { class: "serial", text: n.serial || n.scanned || "" }),
      n.detail && !["loaded"].includes(n.state) ? h("div", { class: "detail", text: detailText(n.detail) }) : null,
      progressBlock(n, now)),
    next ? h("div", { class: "next", text: next }) : null,
    ui.message ? h("div", { class: "message", role: "alert", text: ui.message }) : null,
    n.scan_notice ? h("div", { class: "message scan-notice", role: "alert", text: t("scan_notice", { why: n.scan_notice }) }) : null,
    n.scanner_problem ? h("div", { class: "message scanner-problem", role: "alert", text: t("scanner_problem", { why: n.scanner_problem }) }) : null,
    buttons.length ? h("div", { class: "buttons" }, buttons) : null,
    h("footer", {},
      h("span", { class: "totals", text: t("totals", { tested: number(n.totals.tested, 0), passed: number(n.totals.passed, 0), failed: number(n.totals.failed, 0) }) }),
      n.last && !verdict ? h("span", { class: "last", text: t("last", { serial: n.last.serial, verdict: t("verdict." + n.last.verdict) }) }) : null));
  return tile;
}
