// noVNC client page: the password comes from an authenticated same-origin request, never a URL.
import RFB from "/novnc/core/rfb.js";

const screen = document.getElementById("screen");
const status = document.getElementById("status");

function show(state, text) {
  document.body.dataset.state = state;
  status.textContent = text;
}

async function connect() {
  const response = await fetch(screen.dataset.credentials, {
    headers: { "X-Arcdesk-Request": "1" }, credentials: "same-origin", cache: "no-store",
  });
  if (!response.ok) {
    show("refused", "Not allowed. Open your personal link again.");
    return;
  }
  const { password } = await response.json();
  const scheme = location.protocol === "https:" ? "wss:" : "ws:";
  const rfb = new RFB(screen, `${scheme}//${location.host}${screen.dataset.socket}`, {
    credentials: { password }, wsProtocols: ["binary"],
  });
  rfb.viewOnly = screen.dataset.viewOnly === "true";
  rfb.scaleViewport = true;
  rfb.addEventListener("connect", () => show("connected", "Connected"));
  rfb.addEventListener("disconnect", (event) =>
    show("disconnected", event.detail.clean ? "Disconnected" : "Connection lost"));
  rfb.addEventListener("securityfailure", () => show("refused", "The desktop refused the password"));
}

connect().catch(() => show("error", "Could not connect"));
