"""Prometheus metrics of one gateway (its own registry, so several apps can share a process).

Served by :func:`arcdesk.gateway.app.create_metrics_app` on the metrics listener only."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, generate_latest


class GatewayMetrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.active_connections = Gauge(
            "arcdesk_gateway_active_connections", "Open desktop (WebSocket) connections.",
            ["role"], registry=self.registry)
        self.bytes_proxied = Counter(
            "arcdesk_gateway_proxied_bytes", "Payload bytes proxied between browsers and desktops.",
            ["direction"], registry=self.registry)
        self.auth_failures = Counter(
            "arcdesk_gateway_auth_failures", "Requests refused for a missing, unknown, revoked "
            "or malformed token.", registry=self.registry)
        self.slowed = Counter(
            "arcdesk_gateway_slowed_refusals", "Refusals held back because their client "
            "failed often (a valid token is never held back).", registry=self.registry)
        self.rate_limited = Counter(
            "arcdesk_gateway_rate_limited", "Bad attempts answered 429 at once because too many "
            "refusals were already held back.", registry=self.registry)
        self.revoked_connections = Counter(
            "arcdesk_gateway_revoked_connections", "Connections closed because their token was "
            "revoked or their seat deleted.", registry=self.registry)
        self.watch_restarts = Counter(
            "arcdesk_gateway_watch_restarts", "Relists of a watched kind after an expired or "
            "broken watch.", ["kind"], registry=self.registry)
        self.indexed = Gauge("arcdesk_gateway_indexed_objects", "Objects in the seat index.",
                             ["kind"], registry=self.registry)
        for role in ("trainee", "instructor"):
            self.active_connections.labels(role)
        for direction in ("to_desktop", "to_browser"):
            self.bytes_proxied.labels(direction)

    def exposition(self) -> bytes:
        return generate_latest(self.registry)
