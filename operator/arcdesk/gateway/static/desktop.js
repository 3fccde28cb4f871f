// noVNC client page: the password comes from an authenticated same-origin request, never a URL.
import RFB from "/novnc/core/rfb.js";

const screen = document.getElementById("screen");
const status = document.getElementById("status");

function show(state, text) {
  document.body.dataset.state = state;
  status.textContent = text;
}

// A dropped connection is retried (a gateway rollout, a desktop pod being replaced): after
// 1, 2, 4, 8 s, then every 10 s, for about two minutes. A refused credentials request ends it.
// Browsers throttle timers in background tabs (to once a minute after a while), so a tab
// that comes back into view retries at once.
const RETRY_DELAYS_MS = [1000, 2000, 4000, 8000, ...Array(10).fill(10000)];
// An attempt that has not reached the desktop by then is abandoned and retried: a request
// sent down a path that died with an old pod is never answered, and noVNC has no timeout.
const ATTEMPT_TIMEOUT_MS = 15000;
let failures = 0;
let pending = null;

function attempt() {
  pending = null;
  const abandon = new AbortController();
  const deadline = setTimeout(() => abandon.abort(), ATTEMPT_TIMEOUT_MS);
  connect(abandon.signal, () => clearTimeout(deadline)).catch(() => {
    clearTimeout(deadline);
    retryLater();
  });
}

function retryLater() {
  if (failures >= RETRY_DELAYS_MS.length) {
    show("disconnected", "Connection lost. Reload the page to try again.");
    return;
  }
  const delay = RETRY_DELAYS_MS[failures];
  failures += 1;
  show("reconnecting", `Connection lost; reconnecting in ${delay / 1000} s`);
  pending = setTimeout(attempt, delay);
}

document.addEventListener("visibilitychange", () => {
  if (document.visibilityState === "visible" && pending !== null) {
    clearTimeout(pending);
    attempt();
  }
});

async function connect(signal, settled) {
  const response = await fetch(screen.dataset.credentials, {
    headers: { "X-Arcdesk-Request": "1" }, credentials: "same-origin", cache: "no-store", signal,
  });
  if (response.status === 401 || response.status === 403) {
    settled();
    show("refused", "Not allowed. Open your personal link again.");
    return;
  }
  if (!response.ok) {
    throw new Error(`credentials: HTTP ${response.status}`);  // starting, or a gateway restarting
  }
  const { password } = await response.json();
  const scheme = location.protocol === "https:" ? "wss:" : "ws:";
  const rfb = new RFB(screen, `${scheme}//${location.host}${screen.dataset.socket}`, {
    credentials: { password }, wsProtocols: ["binary"],
  });
  rfb.viewOnly = screen.dataset.viewOnly === "true";
  rfb.scaleViewport = true;
  let refused = false;
  signal.addEventListener("abort", () => rfb.disconnect());  // fires "disconnect": a retry
  rfb.addEventListener("connect", () => {
    settled();
    failures = 0;
    show("connected", "Connected");
  });
  rfb.addEventListener("disconnect", () => {
    settled();
    screen.replaceChildren();  // noVNC leaves its canvas behind; the next RFB draws a new one
    if (!refused) retryLater();
  });
  rfb.addEventListener("securityfailure", () => {
    settled();
    refused = true;
    show("refused", "The desktop refused the password");
  });
}

attempt();
