// A verdict is heard as well as seen: PASS two rising tones, FAIL/ERROR three low buzzes,
// ABORTED one mid tone. Browsers allow audio only after a touch or a key, so the context is
// made on the first one.
let ctx = null;
let enabled = true;

export function unlock() {
  if (!ctx && typeof AudioContext !== "undefined") ctx = new AudioContext();
  if (ctx && ctx.state === "suspended") ctx.resume();
}
export function setEnabled(on) { enabled = on; }
export function isEnabled() { return enabled; }

function tone(freq, start, length, type) {
  const osc = ctx.createOscillator();
  const gain = ctx.createGain();
  osc.type = type;
  osc.frequency.value = freq;
  gain.gain.setValueAtTime(0.0001, ctx.currentTime + start);
  gain.gain.exponentialRampToValueAtTime(0.3, ctx.currentTime + start + 0.02);
  gain.gain.exponentialRampToValueAtTime(0.0001, ctx.currentTime + start + length);
  osc.connect(gain).connect(ctx.destination);
  osc.start(ctx.currentTime + start);
  osc.stop(ctx.currentTime + start + length + 0.05);
}

export function play(kind) {
  if (!enabled || !ctx) return;
  if (kind === "pass") { tone(660, 0, 0.15, "sine"); tone(990, 0.18, 0.25, "sine"); }
  else if (kind === "aborted") tone(440, 0, 0.3, "triangle");
  else for (let i = 0; i < 3; ++i) tone(180, i * 0.35, 0.28, "square");
}
