// The operator page in Debian's headless Chromium, driven by playwright-core, against the
// real rigd and rigsim that page.sh started. Usage: node page.mjs SCENARIO
// Environment: RIG_URL, OP (operator token), ENG (engineer token), SHOTS (screenshot folder).
import { chromium } from "playwright-core";
import { mkdirSync, readFileSync } from "node:fs";
import { pathToFileURL } from "node:url";
import { setTimeout as sleep } from "node:timers/promises";

const scenario = process.argv[2];
const url = process.env.RIG_URL;
const shots = process.env.SHOTS;
mkdirSync(shots, { recursive: true });

function fail(message) {
  throw new Error(message);
}

async function api(token, path, method = "GET") {
  const res = await fetch(new URL(path, url), { method, headers: { Authorization: `Bearer ${token}` } });
  return { status: res.status, body: await res.json() };
}

async function launch() {
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
    args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
           "--disable-component-update", "--disable-sync", "--autoplay-policy=no-user-gesture-required"],
  });
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 }, locale: "en-GB", hasTouch: true });
  const page = await context.newPage();
  const problems = [];
  page.on("pageerror", (e) => problems.push(`page error: ${e.message}`));
  // Refusals the scenario asks for (401, 403, 409, 422) are expected; a missing file is not.
  page.on("console", (m) => m.type() === "error" && !/status of 4(01|03|09|22)/.test(m.text()) && problems.push(`console: ${m.text()}`));
  page.on("response", (r) => r.status() === 404 && problems.push(`404 for ${r.url()}`));
  return { browser, page, problems };
}

async function signIn(page, token) {
  await page.goto(url);
  await page.locator("#signin").waitFor({ state: "visible" });
  await page.fill("#token", token);
  await page.click("#signin button[type=submit]");
}

async function shot(page, name) {
  const file = `${shots}/${name}.png`;
  await page.screenshot({ path: file, fullPage: true });
  console.log(`screenshot ${file}`);
}

const tile = (page, nest) => page.locator(`#nests > .tile[data-nest="${nest}"]`);

async function waitState(page, nest, state, timeout = 90_000) {
  await page.locator(`#nests > .tile[data-nest="${nest}"][data-state="${state}"]`).waitFor({ timeout });
}

async function text(locator) {
  return (await locator.innerText()).replace(/\s+/g, " ").trim();
}

// scan → START → PASS: the page's scanner and the operator's start; Enter never starts.
async function pass({ page }) {
  const nest = "sim-line1";
  await signIn(page, process.env.OP);
  await page.locator("#who").filter({ hasText: "bench1 (operator)" }).waitFor();
  await page.locator(`#nests > .tile[data-nest="${nest}"][data-state="loaded"]`).filter({ hasText: "Scan the barcode" }).waitFor({ timeout: 60_000 });
  if ((await page.evaluate(() => document.activeElement.id)) !== "scan") fail("the scan field does not have the focus");
  // A barcode that is not this variant's serial is refused on the page, before rigd.
  await page.keyboard.type("XYZ-1\n");
  await page.locator("#scan-message.bad").filter({ hasText: "does not match serial pattern" }).waitFor();
  // The focus comes back to the field after a tap elsewhere.
  await page.click("#who");
  await sleep(100);
  if ((await page.evaluate(() => document.activeElement.id)) !== "scan") fail("the scan field lost the focus after a tap");
  await page.keyboard.type("FPV5-000601\n");
  await page.locator(`#nests > .tile[data-nest="${nest}"]`).filter({ hasText: "Press START" }).waitFor({ timeout: 10_000 });
  await shot(page, "pass-1-scanned");
  // A scanner's second Enter, or a key press on the START button itself, does not start.
  await page.keyboard.press("Enter");
  await tile(page, nest).locator("button.start").focus();
  await page.keyboard.press("Enter");
  await page.keyboard.press("Space");
  await sleep(1500);
  if ((await tile(page, nest).getAttribute("data-state")) !== "loaded") fail("a key press started the test");
  await tile(page, nest).locator("button.start").click();
  await waitState(page, nest, "running", 10_000);
  await tile(page, nest).locator("progress").waitFor();
  await page.locator(`#nests > .tile[data-nest="${nest}"] .step-name`).filter({ hasText: "Motors" }).waitFor({ timeout: 60_000 });
  await shot(page, "pass-2-running");
  await tile(page, nest).locator('.verdict[data-verdict="pass"]').waitFor({ timeout: 90_000 });
  // PASS is on the page: its certificate is already committed and verifies.
  const { body } = await api(process.env.ENG, `/api/v1/nests/${nest}`);
  if (!body.last || body.last.verdict !== "pass") fail(`rigd's nest has no PASS: ${JSON.stringify(body.last)}`);
  const cert = await api(process.env.ENG, `/api/v1/certificates/${body.last.sha256}`);
  if (cert.status !== 200 || !cert.body.verification.ok) fail(`PASS shown without a verified certificate: ${cert.status}`);
  const t = await text(tile(page, nest));
  if (!/PASS/.test(t) || !/FPV5-000601/.test(t) || !/certificate #1/.test(t)) fail(`PASS tile reads: ${t}`);
  await shot(page, "pass-3-verdict");
  await waitState(page, nest, "idle", 60_000);
  if (!/last: FPV5-000601 PASS/.test(await text(tile(page, nest)))) fail("the idle tile does not show the last verdict");
}

// A weak motor 3 (the jig's reader, the lid starts): FAIL with motor 3 and its limit, in
// three languages with their own numbers and units.
async function fail_languages({ page }) {
  const nest = "sim-line1";
  await signIn(page, process.env.ENG);
  const verdict = tile(page, nest).locator('.verdict[data-verdict="fail"]');
  await verdict.waitFor({ timeout: 120_000 });
  const want = {
    en: [/FAIL/, /motor 3: [\d,]+ rpm, limit 8,500–11,500 rpm/],
    uk: [/БРАК/, /мотор 3: [\d\s]+ об\/хв, межі 8\s500–11\s500 об\/хв/],
    nb: [/FEIL/, /motor 3: [\d\s]+ o\/min, grense 8\s500–11\s500 o\/min/],
  };
  for (const lang of ["en", "uk", "nb"]) {
    await page.click(`#langs button[data-lang="${lang}"]`);
    const t = await text(tile(page, nest));
    for (const re of want[lang]) if (!re.test(t)) fail(`${lang}: the FAIL tile lacks ${re}: ${t}`);
    if ((await page.getAttribute("html", "lang")) !== lang) fail(`${lang}: <html lang> not switched`);
    await shot(page, `fail-${lang}`);
  }
  // The choice is kept across a reload.
  await page.reload();
  await verdict.waitFor();
  if (!/FEIL/.test(await text(tile(page, nest)))) fail("the language was not kept across a reload");
}

// ABORT (two taps) during the motors: the tile shows ABORTED and no certificate.
async function abort({ page }) {
  const nest = "sim-line1";
  await signIn(page, process.env.OP);
  await page.locator(`#nests > .tile[data-nest="${nest}"] .step-name`).filter({ hasText: "Motors" }).waitFor({ timeout: 90_000 });
  await sleep(1000);
  const button = tile(page, nest).locator("button.abort");
  await button.click();
  await tile(page, nest).locator("button.abort.armed").filter({ hasText: "Tap again to ABORT" }).waitFor();
  await shot(page, "abort-1-armed");
  await tile(page, nest).locator("button.abort.armed").click();
  await waitState(page, nest, "aborted", 30_000);
  const t = await text(tile(page, nest));
  if (!/ABORTED/.test(t) || !/aborted by bench1 \(operator\)/.test(t) || !/no certificate issued/.test(t)) fail(`ABORTED tile reads: ${t}`);
  await shot(page, "abort-2-aborted");
}

// Two nests at once, each with its own verdict.
async function two_nests({ page }) {
  await signIn(page, process.env.ENG);
  await page.locator("#nests > .tile").nth(1).waitFor();
  const ids = await page.locator("#nests > .tile").evaluateAll((ts) => ts.map((t) => t.dataset.nest));
  if (ids.length !== 2) fail(`want 2 tiles, got ${ids}`);
  await page.locator('#nests > .tile[data-state="running"]').nth(1).waitFor({ timeout: 90_000 });
  await shot(page, "two-nests-1-running");
  for (const id of ids) await tile(page, id).locator(".verdict").waitFor({ timeout: 120_000 });
  const verdicts = await page.locator("#nests .verdict").evaluateAll((vs) => vs.map((v) => v.dataset.verdict).sort());
  if (verdicts.join() !== "fail,pass") fail(`want one pass and one fail, got ${verdicts}`);
  await shot(page, "two-nests-2-verdicts");
}

// A wrong token is refused at the door; a token revoked while the page is open is refused
// from its next request.
async function token({ page }) {
  await signIn(page, "rig_" + "0".repeat(64));
  await page.locator("#signin-error").filter({ hasText: "Token refused: unknown token" }).waitFor();
  if (await page.locator("#nests > .tile").count()) fail("tiles shown to a wrong token");
  await shot(page, "token-1-refused");
  await page.fill("#token", process.env.OP);
  await page.click("#signin button[type=submit]");
  await page.locator("#nests > .tile").first().waitFor();
  const r = await api(process.env.ADMIN, "/api/v1/tokens/bench1", "DELETE");
  if (r.status !== 200) fail(`revoke: ${r.status}`);
  await page.reload();
  await page.locator("#signin-error").filter({ hasText: "revoked" }).waitFor();
  await shot(page, "token-2-revoked");
}

// The certificate page (GET /api/v1/certificates/{sha256}/html, its own CSP) and the stats page
// (rigctl stats --html) as Chromium draws them: every numeric measurement of the signed JSON has
// its band chart with its value and limits, the marker sits inside the pass band exactly when
// the value is within its limits, the page fits A4 and prints; no console error (no CSP refusal).
async function certificate({ page }) {
  const cert = JSON.parse(readFileSync(process.env.CERT_JSON, "utf8")).certificates[0];
  await page.setExtraHTTPHeaders({ Authorization: `Bearer ${process.env.QA}` });
  const res = await page.goto(new URL(`/api/v1/certificates/${cert.sha256}/html`, url).href);
  if (res.status() !== 200) fail(`certificate page: HTTP ${res.status()}`);
  await page.locator(".verdict.v-fail").filter({ hasText: "FAIL" }).waitFor();
  const bands = await page.locator("svg.band").evaluateAll((svgs) => svgs.map((s) => {
    const band = s.querySelector("rect.pass-band"), marker = s.querySelector("path.marker");
    const x = Number(band.getAttribute("x")), w = Number(band.getAttribute("width"));
    return { name: s.dataset.measurement, value: Number(s.dataset.value), min: s.dataset.min, max: s.dataset.max,
             verdict: s.dataset.verdict, inside: Number(marker.dataset.x) >= x && Number(marker.dataset.x) <= x + w,
             drawn: s.getBoundingClientRect().width > 0 };
  }));
  // Every measurement judged against a numeric range or value has a chart, in the signed order
  // (a name can recur in several steps, e.g. supply_voltage).
  const charted = (m) => m.limit_spec && typeof m.value === "number" && !m.text &&
    (m.limit_spec.kind === "range" || (m.limit_spec.kind === "equals" && typeof m.limit_spec.equals === "number"));
  const want = cert.certificate.steps.flatMap((st) => st.measurements).filter(charted);
  if (want.length < 10) fail(`the certificate has only ${want.length} ranged measurements`);
  if (bands.length !== want.length) fail(`${bands.length} band charts for ${want.length} judged numeric measurements`);
  want.forEach((m, i) => {
    const b = bands[i];
    const lo = m.limit_spec.kind === "equals" ? m.limit_spec.equals : m.limit_spec.min;
    const hi = m.limit_spec.kind === "equals" ? m.limit_spec.equals : m.limit_spec.max;
    if (b.name !== m.name) fail(`chart ${i} is ${b.name}, the certificate's measurement ${i} is ${m.name}`);
    if (!b.drawn) fail(`${m.name}: the band chart is not drawn`);
    if (Math.abs(b.value - m.value) > 1e-9 * Math.max(1, Math.abs(m.value))) fail(`${m.name}: chart value ${b.value}, signed ${m.value}`);
    if ((lo ?? "") !== (b.min === "" ? "" : Number(b.min))) fail(`${m.name}: chart min ${b.min}, signed ${lo}`);
    if ((hi ?? "") !== (b.max === "" ? "" : Number(b.max))) fail(`${m.name}: chart max ${b.max}, signed ${hi}`);
    if (b.verdict !== m.verdict) fail(`${m.name}: chart verdict ${b.verdict}, signed ${m.verdict}`);
    const within = (lo === undefined || m.value >= lo) && (hi === undefined || m.value <= hi);
    if (b.inside !== within) fail(`${m.name}: value ${m.value} ${within ? "within" : "outside"} its limits but the marker is ${b.inside ? "inside" : "outside"} the band`);
  });
  if (!bands.some((b) => b.name === "motor3.rpm" && b.verdict === "fail" && !b.inside)) fail("motor 3's failing value is not drawn outside its band");
  console.log(`certificate: ${want.length} judged numeric measurements, each drawn against its limits`);
  await shot(page, "certificate-1-page");
  // Print: at A4's width (210 mm at 96 dpi) nothing sticks out; Chromium prints it to a PDF.
  await page.emulateMedia({ media: "print" });
  await page.setViewportSize({ width: 794, height: 1123 });
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth);
  if (overflow > 794) fail(`the printed page is ${overflow}px wide, wider than A4`);
  const pdf = await page.pdf({ path: `${shots}/certificate.pdf`, format: "A4", printBackground: true });
  const pages = (pdf.toString("latin1").match(/\/Type\s*\/Page\b/g) || []).length;
  if (pages < 1 || pages > 4) fail(`the certificate prints on ${pages} A4 pages`);
  console.log(`certificate: prints on ${pages} A4 page(s), ${shots}/certificate.pdf`);
  await shot(page, "certificate-2-print");

  // The stats page, from the file rigctl wrote: Pareto and control charts drawn.
  await page.emulateMedia({ media: "screen" });
  await page.setViewportSize({ width: 1280, height: 800 });
  await page.setExtraHTTPHeaders({});
  await page.goto(pathToFileURL(process.env.STATS).href);
  const charts = await page.locator("svg.control").evaluateAll((svgs) => svgs.map((s) => ({
    name: s.dataset.measurement, n: Number(s.dataset.n), drawn: Number(s.dataset.points), points: s.querySelectorAll("circle").length, w: s.getBoundingClientRect().width })));
  if (charts.length < 10) fail(`only ${charts.length} control charts`);
  for (const c of charts) if (c.points !== c.drawn || c.drawn !== Math.min(c.n, 500) || c.w <= 0) fail(`${c.name}: ${c.points} points drawn, ${c.drawn} charted of ${c.n}`);
  const bars = await page.locator('svg.pareto rect.bar').count();
  if (bars < 1) fail("no Pareto bar");
  console.log(`stats: ${charts.length} control charts, ${bars} Pareto bars`);
  await shot(page, "stats-1-page");
}

const scenarios = { pass, fail_languages, abort, two_nests, token, certificate };
const run = scenarios[scenario];
if (!run) {
  console.error(`page.mjs: unknown scenario '${scenario}'`);
  process.exit(2);
}
const ctx = await launch();
let rc = 0;
try {
  await run(ctx);
  if (ctx.problems.length) fail(ctx.problems.join("; "));
  console.log(`PASS [browser ${scenario}]`);
} catch (e) {
  rc = 1;
  console.error(`FAIL [browser ${scenario}]: ${e.message}`);
  await shot(ctx.page, `${scenario}-failed`).catch(() => {});
} finally {
  await ctx.browser.close();
}
process.exit(rc);
