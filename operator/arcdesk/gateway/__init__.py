"""The gateway: the only door into a desktop (``arcdesk gateway run``).

Request path: ``/s/<token>`` (trainee) or ``/i/<token>`` (instructor) sets an HttpOnly,
SameSite=Strict cookie scoped to that seat's or course's path; the pages, the VNC password
(fetched by our own script, never in a URL) and the WebSocket proxy to the seat's websockify
all check that cookie against the in-memory index.

Modules: ``records``/``index``/``tokens`` (pure: what each token opens, where each seat
listens), ``apiserver``/``watch`` (list+watch into the index, the start request),
``access`` (refusals, cookies, origin rules), ``trainee``/``instructor`` (routes),
``proxy`` (WebSocket relay, revocation), ``thumbnails``, ``pages`` (+ templates/, static/),
``ratelimit``, ``logs`` (redaction), ``metrics``, ``novnc`` (the pinned noVNC), ``state``,
``app``, ``server``.

noVNC's core library comes from the npm registry, pinned by version and checksum
(:mod:`arcdesk.gateway.novnc`); ``arcdesk gateway install-novnc`` puts it beside the
package (``make setup`` and the operator image run it). The app refuses to start without it
(:class:`arcdesk.gateway.app.NoVncMissing`).
"""
