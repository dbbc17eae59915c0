// rigd's HTTP API and event stream, as the page uses them (see /api/v1/openapi.json).

export class ApiError extends Error {
  constructor(status, message) {
    super(message);
    this.status = status;
  }
}

export async function call(token, method, path, body) {
  const headers = { Authorization: `Bearer ${token}` };
  if (body !== undefined) headers["Content-Type"] = "application/json";
  let res;
  try {
    res = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body), cache: "no-store" });
  } catch (e) {
    throw new ApiError(0, String(e.message || e));
  }
  let data = null;
  try {
    data = await res.json();
  } catch {
    data = null;
  }
  if (!res.ok) throw new ApiError(res.status, (data && data.error) || `HTTP ${res.status}`);
  return data;
}

// The WebSocket of nest events: a snapshot first, then state, step_started, step_finished
// and verdict events. Reconnects after a loss; onStatus("live" | "connecting" | "offline").
export class Events {
  constructor(token, onMessage, onStatus, onRefused) {
    this.token = token;
    this.onMessage = onMessage;
    this.onStatus = onStatus;
    this.onRefused = onRefused;
    this.delay = 1000;
    this.closed = false;
    this.open();
  }

  open() {
    const scheme = location.protocol === "https:" ? "wss:" : "ws:";
    const url = `${scheme}//${location.host}/api/v1/events?access_token=${encodeURIComponent(this.token)}`;
    this.onStatus("connecting");
    const ws = new WebSocket(url);
    this.ws = ws;
    let opened = false;
    ws.onopen = () => {
      opened = true;
      this.delay = 1000;
      this.onStatus("live");
    };
    ws.onmessage = (m) => {
      try {
        this.onMessage(JSON.parse(m.data));
      } catch (e) {
        console.error("bad event from rigd", e);
      }
    };
    ws.onclose = async () => {
      if (this.closed) return;
      this.onStatus("offline");
      if (!opened) {
        // Refused before the upgrade: a revoked or expired token looks like this.
        try {
          await call(this.token, "GET", "/api/v1/whoami");
        } catch (e) {
          if (e.status === 401) return this.onRefused(e.message);
        }
      }
      setTimeout(() => !this.closed && this.open(), this.delay);
      this.delay = Math.min(this.delay * 2, 5000);
    };
  }

  close() {
    this.closed = true;
    if (this.ws) this.ws.close();
  }
}
