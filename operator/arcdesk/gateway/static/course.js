// Instructor page: refresh every seat's thumbnail every few seconds (the gateway caches them).
const REFRESH_MS = 5000;

function refresh() {
  for (const img of document.querySelectorAll("img.thumb")) {
    const url = new URL(img.src, location.href);
    url.searchParams.set("t", Date.now().toString());
    img.src = url.pathname + url.search;
  }
}

setInterval(refresh, REFRESH_MS);
