"""``python -m latentlab.editions``: student, instructor, timings, publish, links."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from latentlab.book_tools import ROOT
from latentlab.editions import (
    EXECUTED_DIR,
    check_student_links,
    write_edition,
    write_timings,
)


def _main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m latentlab.editions")
    sub = parser.add_subparsers(dest="command", required=True)
    for kind in ("student", "instructor"):
        cmd = sub.add_parser(kind, help=f"write the {kind} edition")
        cmd.add_argument("--out", default=str(ROOT / "_build" / kind))
        cmd.add_argument(
            "--executed",
            default=str(EXECUTED_DIR),
            help="executed full-size notebooks (from make book)",
        )
    timings = sub.add_parser(
        "timings", help="record page run times in book/timings.json"
    )
    timings.add_argument("--doctrees", default=str(ROOT / "_build" / ".doctrees"))
    timings.add_argument("--fast", default=str(ROOT / "_build" / "notebook-times.json"))
    publish = sub.add_parser(
        "publish", help="after make book: timings, student notebooks into HTML, links"
    )
    publish.add_argument("html_dir", nargs="?", default=str(ROOT / "_build" / "html"))
    publish.add_argument(
        "--fast",
        action="store_true",
        help="a fast-mode build: quote nothing from it and record no full-size times",
    )
    links = sub.add_parser(
        "check-links", help="every chapter links its student notebook"
    )
    links.add_argument("html_dir", nargs="?", default=str(ROOT / "_build" / "html"))
    args = parser.parse_args(argv)
    if args.command in ("student", "instructor"):
        executed = Path(args.executed)
        for path in write_edition(
            Path(args.out),
            args.command,
            executed_dir=executed if executed.exists() else None,
        ):
            print(f"wrote {path}")
    elif args.command == "publish":
        html = Path(args.html_dir)
        build = html.parent
        executed = None if args.fast or not EXECUTED_DIR.exists() else EXECUTED_DIR
        if not args.fast:
            write_timings(build / ".doctrees", build / "notebook-times.json")
        written = write_edition(html / "student", "student", executed_dir=executed)
        print(f"publish: {len(written)} student notebooks in {html / 'student'}")
        problems = check_student_links(html)
        for problem in problems:
            print(f"publish: {problem}")
        if problems:
            raise SystemExit(1)
    elif args.command == "timings":
        print(json.dumps(write_timings(Path(args.doctrees), Path(args.fast)), indent=1))
    else:
        problems = check_student_links(Path(args.html_dir))
        for problem in problems:
            print(f"check-links: {problem}")
        if problems:
            raise SystemExit(1)
        print(
            f"check-links: every chapter of {args.html_dir} links its student notebook"
        )
