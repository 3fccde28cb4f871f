"""Chaos tier fixtures: the cluster tier's (a real API server, CRDs, a namespace per test)
plus the devcluster's own processes, which these tests stop and start. Every test leaves
the devcluster with all its components running, whatever happened."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from devcluster import cluster
from devcluster.components import Layout
from tests.cluster.conftest import api, crds, kubeconfig, kubectl, namespace  # noqa: F401
from tests.cluster.operator_fixture import operator_fixture, profile_fixture  # noqa: F401


@pytest.fixture
def devcluster() -> Iterator[Layout]:
    """The running devcluster's layout; any component a test stopped is started again."""
    layout = Layout.from_environment()
    yield layout
    cluster.start_missing_components(layout)


RECOVERIES: list[tuple[str, float, str]] = []  # (fault, seconds to all Ready, objects)


@pytest.fixture
def recovery() -> Iterator[list[tuple[str, float, str]]]:
    """Where a test records its fault, how long recovery took and what it counted."""
    yield RECOVERIES


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if not RECOVERIES:
        return
    terminalreporter.section("chaos: time from the fault clearing to every seat Ready")
    for fault, seconds, counted in RECOVERIES:
        terminalreporter.write_line(f"{seconds:6.1f} s  {fault}  ({counted})")
