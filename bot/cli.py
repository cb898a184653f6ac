"""`hiwar` command line: run, demo, health, verify-audit, check-survey, import-xlsform,
export-xlsform, migrate-db."""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
from collections.abc import Sequence
from pathlib import Path

from bot.config import ConfigError, load_settings
from bot.logs import configure_logging
from bot.survey.loader import DEFAULT_SURVEY_PATH, SurveyFileError
from bot.survey.sources import read_survey
from storage.database import StorageError
from storage.url import BadDatabaseUrl


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="hiwar", description="Hiwar (حوار): a bilingual Telegram consultation bot."
    )
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("run", help="run the bot against Telegram (long polling)")
    demo = commands.add_parser(
        "demo", help="run the bot against a local Bot API simulator with simulated respondents"
    )
    demo.add_argument("--respondents", type=int, default=36, help="how many (default 36)")
    demo.add_argument("--seed", type=int, default=7, help="random seed for the answers")
    demo.add_argument(
        "--output", type=Path, default=Path("demo-output"), help="folder for the database"
    )
    commands.add_parser(
        "health",
        help="is the running bot serving? (exit 0: yes; 1: no; one JSON line either way)",
    )
    commands.add_parser(
        "verify-audit",
        help="check that no audit log entry was altered, removed or inserted (exit 1 if so)",
    )
    check = commands.add_parser("check-survey", help="validate a survey file (YAML or XLSForm)")
    check.add_argument("file", type=Path, nargs="?", default=DEFAULT_SURVEY_PATH)
    into = commands.add_parser(
        "import-xlsform",
        help="convert an XLSForm (.xlsx) into a Hiwar survey file",
        description="Read an XLSForm workbook (KoBoToolbox, ODK, SurveyCTO, Ona), list what "
        "Hiwar leaves out with its sheet and row, and write the survey as YAML. Exit 2 when "
        "the survey cannot run without something the form uses.",
    )
    into.add_argument("form", type=Path, metavar="FORM.xlsx")
    into.add_argument("-o", "--output", type=Path, help="the YAML file (default: print it)")
    out = commands.add_parser(
        "export-xlsform", help="write a Hiwar survey (YAML or .xlsx) as an XLSForm workbook"
    )
    out.add_argument("survey", type=Path, nargs="?", default=DEFAULT_SURVEY_PATH)
    out.add_argument("-o", "--output", type=Path, required=True, metavar="FORM.xlsx")
    migrate = commands.add_parser(
        "migrate-db",
        help="copy a whole deployment into another, empty database (SQLite ⇄ PostgreSQL)",
        description="Copy every table of SOURCE_URL into TARGET_URL, which must be empty, "
        "and compare the row counts of each table. Both are migrated to the latest schema "
        "first. URLs: sqlite:///path/to/file or postgresql://user:password@host/database.",
    )
    migrate.add_argument("source", metavar="SOURCE_URL")
    migrate.add_argument("target", metavar="TARGET_URL")
    return parser


def _migrate_db(source: str, target: str) -> int:
    """Copy, then print each table's row count in both databases."""
    from storage.copy import copy_database

    counts = asyncio.run(copy_database(source, target))
    width = max(len(c.table) for c in counts)
    for count in counts:
        print(f"{count.table:<{width}}  {count.source:>9,} → {count.target:>9,}  OK")
    print(f"copied {len(counts)} tables, {sum(c.target for c in counts):,} rows")
    return 0


async def _health(database: str) -> int:
    """Read the running instances' heartbeats (bot/health.py); print one JSON line."""
    from bot.core.clock import utc_now
    from bot.core.i18n import DEFAULT_LANGUAGE
    from bot.health import check
    from storage import open_storage

    storage = await open_storage(database, default_language=DEFAULT_LANGUAGE)
    try:
        verdict = await check(storage.instances, utc_now())
    finally:
        await storage.close()
    print(verdict.json())
    return 0 if verdict.healthy else 1


async def _verify_audit(database: str) -> int:
    """Walk the audit log's chain of digests; say where it breaks, if it does."""
    from bot.core.access import first_broken
    from bot.core.i18n import DEFAULT_LANGUAGE
    from storage import open_storage

    storage = await open_storage(database, default_language=DEFAULT_LANGUAGE)
    try:
        chain = await storage.reports.audit_chain()
    finally:
        await storage.close()
    broken = first_broken(chain)
    if broken is not None:
        print(f"hiwar: the audit log was altered at entry {broken} or just before it")
        return 1
    print(f"audit log intact: {len(chain)} entries")
    return 0


def _import_xlsform(form: Path, output: Path | None) -> int:
    """Print what is left out, one line each, then the YAML (or write it); exit 2 when the
    survey cannot run."""
    from bot.survey.document import dump_yaml
    from bot.survey.sources import import_file
    from bot.survey.xlsform import XlsFormError

    try:
        imported = import_file(form)
    except XlsFormError as error:
        for problem in error.problems:
            print(f"{form}: {problem}", file=sys.stderr)
        print(f"hiwar: error: {error}", file=sys.stderr)
        return 2
    for problem in imported.problems:
        print(f"{form}: {problem}", file=sys.stderr)
    survey = imported.survey
    if output is None:
        print(dump_yaml(survey), end="")
    else:
        output.write_text(dump_yaml(survey), encoding="utf-8")
    print(
        f"{form}: OK, survey {survey.id!r} version {survey.version}, "
        f"{len(survey.questions)} questions in {' and '.join(survey.languages)}"
        + (f", {len(imported.problems)} notes above" if imported.problems else ""),
        file=sys.stderr,
    )
    return 0


def _export_xlsform(path: Path, output: Path) -> int:
    from bot.survey.xlsform import export_xlsform

    survey = read_survey(path)
    output.write_bytes(export_xlsform(survey))
    print(f"{output}: XLSForm of survey {survey.id!r} version {survey.version}")
    return 0


def _check_survey(path: Path) -> int:
    """Print every problem of a survey file, one per line; exit 1 when there are any."""
    try:
        survey = read_survey(path)
    except SurveyFileError as error:
        for problem in error.problems:
            print(problem, file=sys.stderr)
        print(f"hiwar: error: {error}", file=sys.stderr)
        return 1
    print(
        f"{path}: OK, survey {survey.id!r} version {survey.version}, "
        f"{len(survey.questions)} questions"
    )
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    # `run` is for log collectors (JSON lines); the demo and the checker are for people.
    running = args.command == "run"
    configure_logging(structured=running, level=logging.INFO if running else logging.WARNING)
    try:
        if args.command == "check-survey":
            return _check_survey(args.file)
        if args.command == "import-xlsform":
            return _import_xlsform(args.form, args.output)
        if args.command == "export-xlsform":
            return _export_xlsform(args.survey, args.output)
        if args.command == "migrate-db":
            return _migrate_db(args.source, args.target)
        if args.command == "demo":
            from bot.demo import run_demo

            return asyncio.run(run_demo(args.respondents, args.seed, args.output))
        settings = load_settings()
        if args.command == "health":
            return asyncio.run(_health(settings.database))
        if args.command == "verify-audit":
            return asyncio.run(_verify_audit(settings.database))
        token = settings.require_token()
        survey = read_survey(settings.survey_path)
        from bot.app import StartupError, serve_until_signalled

        try:
            return asyncio.run(serve_until_signalled(settings, survey, token))
        except StartupError as error:
            print(f"hiwar: error: {error}", file=sys.stderr)
            return 2
    except (ConfigError, SurveyFileError, StorageError, BadDatabaseUrl, OSError) as error:
        print(f"hiwar: error: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
