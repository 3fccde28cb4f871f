"""The gateway: the only door into a desktop (``arcdesk gateway run``).

Request path: ``/s/<token>`` (trainee) or ``/i/<token>`` (instructor) sets an HttpOnly,
SameSite=Strict cookie scoped to that seat's or course's path; the pages, the VNC password
(fetched by our own script, never in a URL) and the WebSocket proxy to the seat's websockify
all check that cookie against the in-memory index.

Modules: ``records``/``index``/``tokens`` (pure: what each token opens, where each seat
listens), ``apiserver``/``watch`` (list+watch into the index, the start request),
``access`` (refusals, cookies, origin rules), ``trainee``/``instructor`` (routes),
``proxy`` (WebSocket relay, revocation), ``thumbnails``, ``pages`` (+ templates/, static/),
``ratelimit``, ``logs`` (redaction), ``metrics``, ``state``, ``app``, ``server``.

noVNC comes from Debian bookworm's ``novnc`` package (1:1.3.0-1, files under
/usr/share/novnc), the same noVNC the desktop image ships; ``make desktop-deps`` installs
it here, and a gateway image needs ``apt-get install novnc``. The app refuses to start
without it (:class:`arcdesk.gateway.app.NoVncMissing`).
"""
