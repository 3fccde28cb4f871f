// Trainee landing page. It follows its seat with a long poll of status.json (answered the
// moment the seat changes) instead of reloading on a timer. A desktop that was on its way
// when the page opened is entered as soon as it is ready, as a spawn page does; any other
// change reloads the page, so the server alone decides what the page offers.
const body = document.body;
const waitedForStart = body.dataset.state === "starting";
const RETRY_MS = 2000;

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

async function nextState(known) {
  const url = `${body.dataset.status}?state=${encodeURIComponent(known)}`;
  const response = await fetch(url, {
    headers: { "X-Arcdesk-Request": "1" }, credentials: "same-origin", cache: "no-store",
  });
  if (response.status === 401 || response.status === 403) return null;  // link revoked
  if (!response.ok) throw new Error(`status: HTTP ${response.status}`);
  return (await response.json()).state;
}

async function follow() {
  const known = body.dataset.state;
  for (;;) {
    let state;
    try {
      state = await nextState(known);
    } catch {
      await sleep(RETRY_MS);  // a gateway restarting: ask again
      continue;
    }
    if (state === null) return;
    if (state === known) continue;
    if (state === "ready" && waitedForStart) location.assign(body.dataset.desktop);
    else location.reload();
    return;
  }
}

follow();
