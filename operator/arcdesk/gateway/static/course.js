// Instructor page. Each thumbnail is fetched and decoded off-screen, then drawn onto its
// canvas in one step: the page never shows (or hands out) a half-loaded picture, and a
// failed fetch keeps the last picture, marked stale. Phases refresh from status.json; the
// page reloads only when the course's seats change.
const THUMBNAIL_MS = 5000;
const STATUS_MS = 10000;

function fit(canvas, bitmap) {
  const ctx = canvas.getContext("2d");
  const scale = Math.min(canvas.width / bitmap.width, canvas.height / bitmap.height);
  const w = bitmap.width * scale, h = bitmap.height * scale;
  ctx.fillStyle = "#333";
  ctx.fillRect(0, 0, canvas.width, canvas.height);
  ctx.drawImage(bitmap, (canvas.width - w) / 2, (canvas.height - h) / 2, w, h);
}

function placeholder(canvas, text) {
  const ctx = canvas.getContext("2d");
  ctx.fillStyle = "#333";
  ctx.fillRect(0, 0, canvas.width, canvas.height);
  ctx.fillStyle = "#bbb";
  ctx.font = "14px sans-serif";
  ctx.textAlign = "center";
  ctx.fillText(text, canvas.width / 2, canvas.height / 2);
}

async function drawThumbnail(canvas) {
  try {
    const response = await fetch(canvas.dataset.src, { cache: "no-store" });
    if (!response.ok) throw new Error(`HTTP ${response.status}`);
    const bitmap = await createImageBitmap(await response.blob());
    fit(canvas, bitmap);
    bitmap.close();
    canvas.dataset.drawn = String(Number(canvas.dataset.drawn || 0) + 1);
    delete canvas.dataset.stale;
  } catch {
    if (canvas.dataset.drawn === "0") placeholder(canvas, "no picture yet");
    canvas.dataset.stale = "true";
  }
}

function refreshThumbnails() {
  for (const canvas of document.querySelectorAll("canvas.thumb")) drawThumbnail(canvas);
}

async function refreshStatus() {
  const response = await fetch("status.json", { cache: "no-store" });
  if (!response.ok) return;
  const { seats } = await response.json();
  const cards = new Map([...document.querySelectorAll("li.seat-card")]
    .map((card) => [card.dataset.seat, card]));
  if (seats.length !== cards.size || seats.some((s) => !cards.has(s.seat))) {
    location.reload();
    return;
  }
  for (const { seat, phase } of seats) {
    const card = cards.get(seat);
    card.dataset.phase = phase;
    card.querySelector(".phase").textContent = phase;
  }
}

refreshThumbnails();
setInterval(refreshThumbnails, THUMBNAIL_MS);
setInterval(() => refreshStatus().catch(() => {}), STATUS_MS);
