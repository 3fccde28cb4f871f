"""`arcdesk operator run` refuses an unclear scope before it touches any cluster."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from arcdesk.cli.main import app


@pytest.mark.parametrize("args", [[], ["--namespace", "training", "--all-namespaces"]])
def test_run_needs_namespaces_or_all_namespaces(args: list[str]) -> None:
    result = CliRunner().invoke(app, ["operator", "run", *args])
    assert result.exit_code == 2
    assert "give --namespace NS (repeatable) or --all-namespaces" in result.output


def test_run_documents_its_options() -> None:
    result = CliRunner().invoke(app, ["operator", "run", "--help"])
    assert result.exit_code == 0
    for option in ("--namespace", "--all-namespaces", "--workers", "--api-concurrency",
                   "--probe-port", "--probe-host", "--resync"):
        assert option in result.output


def test_the_operator_entry_point_loads_only_the_operator_command(
        monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    from arcdesk.cli import entry

    monkeypatch.setattr("sys.argv", ["arcdesk", "operator", "run"])
    with pytest.raises(SystemExit) as exit_:
        entry.main()
    assert exit_.value.code == 2
    assert "give --namespace NS" in capsys.readouterr().err
