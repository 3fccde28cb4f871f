"""Write a new trainee ARC with ARCtrl. Run by path with the profile venv's python (the one
that has ARCtrl); the runtime itself stays stdlib-only and never imports this file.

    python arc_scaffold.py DEST --identifier ID --title TITLE [--owner NAME]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from arctrl import ARC, ArcAssay, ArcStudy, Person

STUDY = "example-study"
ASSAY = "example-assay"
LAYOUT = ("isa.investigation.xlsx", "studies", "assays", "workflows", "runs")


def scaffold(dest: Path, identifier: str, title: str, owner: str) -> None:
    """ARC v2 layout: investigation, one study and one assay to start from, empty workflows/runs."""
    arc = ARC(
        identifier,
        title=title,
        description=f"Course ARC for {title}. Add your studies, assays and data here.",
        contacts=[Person(first_name=owner)] if owner else None,
    )
    arc.AddStudy(ArcStudy(STUDY, title="Example study"))
    arc.AddAssay(ArcAssay(ASSAY))
    arc.Write(str(dest))
    missing = [name for name in LAYOUT if not (dest / name).exists()]
    if missing:  # ARCtrl changed what Write() creates: fail loudly rather than seed a half ARC
        raise SystemExit(f"ARCtrl wrote no {', '.join(missing)} in {dest}")


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="arc_scaffold")
    parser.add_argument("dest", type=Path)
    parser.add_argument("--identifier", required=True)
    parser.add_argument("--title", required=True)
    parser.add_argument("--owner", default="")
    ns = parser.parse_args(argv)
    scaffold(ns.dest, ns.identifier, ns.title, ns.owner)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
