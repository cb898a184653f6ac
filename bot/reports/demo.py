"""The coordinator's view at the end of `hiwar demo`: the summary as text, and the charts."""

from __future__ import annotations

from pathlib import Path

from bot.config import Settings
from bot.i18n import use_language
from bot.reports import charts, text
from bot.reports.errors import ReportError
from bot.reports.service import ReportService
from bot.survey.model import Survey
from handlers.coordinator import message_for
from storage.reports import SqliteReports
from storage.sqlite import SqliteStore


async def coordinator_report(
    store: SqliteStore, survey: Survey, settings: Settings, language: str, out_dir: Path
) -> tuple[str, list[Path]]:
    """The summary of everyone as plain text in `language`, and the charts saved as PNG files
    in `out_dir` (none when there are too few responses to show anything)."""
    reports = await ReportService.start(
        SqliteReports(store), survey, settings.admin_ids, settings.min_cell_size
    )
    with use_language(language):
        try:
            summary = await reports.build_summary()
        except ReportError as error:
            return text.plain([message_for(error)]), []
        report = text.plain(text.summary_lines(summary))
        images = charts.render(summary)
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = []
    for image in images:
        path = out_dir / f"{Path(image.filename).stem}-{language}.png"
        path.write_bytes(image.png)
        paths.append(path)
    return report, paths
