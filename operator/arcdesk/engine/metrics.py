"""Prometheus metrics of the operator (served by arcdesk.probes)."""

from __future__ import annotations

from collections import Counter as Tally
from collections.abc import Iterable

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest

SEAT_PHASES = ("Pending", "Scheduled", "Starting", "Running", "Stopped", "Failed")


class Metrics:
    """One registry per operator instance (tests may start several in one process)."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.reconciles = Counter(
            "arcdesk_reconciles", "Reconciles by kind (Course, Seat) and result (ok, error).",
            ["kind", "result"], registry=self.registry)
        self.duration = Histogram(
            "arcdesk_reconcile_duration_seconds", "Time one reconcile took, by kind.", ["kind"],
            buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
            registry=self.registry)
        self.api_requests = Counter(
            "arcdesk_api_requests", "Requests to the API server by verb and HTTP status.",
            ["verb", "code"], registry=self.registry)
        self.queue_depth = Gauge(
            "arcdesk_workqueue_depth", "Keys waiting to be reconciled.", registry=self.registry)
        self.seats = Gauge("arcdesk_seats", "Seats by phase.", ["phase"], registry=self.registry)
        self.leader = Gauge(
            "arcdesk_operator_leader", "1 while this replica reconciles (holds the lease, or "
            "runs without leader election), 0 while it stands by.", registry=self.registry)

    def api_request(self, verb: str, code: int, seconds: float) -> None:
        self.api_requests.labels(verb, str(code)).inc()

    def observe_seats(self, phases: Iterable[str]) -> None:
        counts = Tally(phases)
        for phase in sorted({*SEAT_PHASES, *counts}):
            self.seats.labels(phase or "Unknown").set(counts.get(phase, 0))

    def exposition(self) -> bytes:
        return generate_latest(self.registry)
