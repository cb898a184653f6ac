"""Coordinators' and admins' handlers: parse, call ReportService, present (bot/reports/views).

An invitation link's `/start grant-…` is taken in group -5, before the respondents' /start.
"""

from __future__ import annotations

from telegram.ext import Application, filters

from bot.core.access import Role
from bot.core.views import File
from bot.reports import views
from bot.reports.access import GRANT_PREFIX
from bot.reports.commands import COMMANDS
from bot.reports.messages import ERRORS
from bot.reports.views import FLOW
from handlers.base.context import Services
from handlers.base.feature import Feature, all_commands
from handlers.base.menus import set_role_menu
from handlers.base.present import Ui
from handlers.base.routing import button, command

# -- coordinators ---------------------------------------------------------------------------


async def summary(ui: Ui, services: Services) -> None:
    """/summary [group]: completed responses, barriers, the local–national gap, priorities."""
    await _summary(ui, services, ui.argument)


async def _summary(ui: Ui, services: Services, wanted: str) -> None:
    result = await services.reports.summary(ui.actor, wanted)
    await ui.show(views.summary(result), flow=FLOW)


async def chart(ui: Ui, services: Services) -> None:
    """/chart [group]: barrier agreement local vs national, and the priorities, as images."""
    for image in await services.reports.charts(ui.actor, ui.argument):
        await ui.send_file(File(image.png, image.filename, photo=True))


async def comments(ui: Ui, services: Services) -> None:
    """/comments [question [page]]: the free-text answers, a page at a time."""
    if not ui.args:
        found = await services.reports.comment_questions(ui.actor)
        await ui.show(views.comment_questions(found, services.reports.threshold), flow=FLOW)
        return
    page = ui.args[1] if len(ui.args) > 1 else "1"
    await _comments_page(ui, services, ui.args[0], int(page) if page.isdecimal() else 1)


async def _comments_page(ui: Ui, services: Services, question_id: str, page: int) -> None:
    found = await services.reports.comments(ui.actor, question_id, page)
    await ui.show(views.comments(found), edit=ui.is_tap, flow=FLOW)


async def export(ui: Ui, services: Services) -> None:
    """/export: the answers as CSV and XLSX, one row per respondent under a pseudonymous code."""
    files = await services.reports.export(ui.actor)
    await ui.send_file(File(files.csv, "hiwar-answers.csv"))
    await ui.send_file(
        File(files.xlsx, "hiwar-answers.xlsx", caption=views.export_caption(files.respondents))
    )


async def reports_help(ui: Ui, services: Services) -> None:
    """/reports: the coordinators' commands (and the admins' ones, for admins)."""
    role = await services.reports.help(ui.actor)
    await ui.show(views.commands(role, all_commands(services.features)))


# -- admins ---------------------------------------------------------------------------------


async def grant(ui: Ui, services: Services) -> None:
    """/grant: a one-time link, valid for 24 hours, that makes its first user a coordinator."""
    issued = await services.reports.access.grant(ui.actor)
    link = f"https://t.me/{ui.bot.username}?start={issued.code}"
    for view in views.grant_link(issued.expires_at, link):
        await ui.show(view)


async def redeem(ui: Ui, services: Services) -> None:
    """`/start grant-…` from an invitation link: the respondents' /start never sees it."""
    await services.reports.access.redeem(ui.actor, ui.argument)
    await set_role_menu(ui.bot, services.features, ui.chat_id, Role.COORDINATOR)
    await ui.show(views.welcome_coordinator())


async def revoke(ui: Ui, services: Services) -> None:
    """/revoke [id]: remove a coordinator; without an id, choose one with a button."""
    wanted = ui.argument
    if wanted:
        await _revoke(ui, services, int(wanted) if wanted.isdecimal() else 0)
        return
    found = await services.reports.access.coordinators(ui.actor)
    await ui.show(views.revoke_choice(found), flow=FLOW)


async def revoke_button(ui: Ui, services: Services) -> None:
    """A coordinator's button under /revoke."""
    await _revoke(ui, services, ui.data(views.RevokeCoordinator).user_id)


async def _revoke(ui: Ui, services: Services, user_id: int) -> None:
    removed = await services.reports.access.revoke(ui.actor, user_id)
    await set_role_menu(ui.bot, services.features, removed.user_id, None)
    await ui.show(views.revoked(removed))


async def roles(ui: Ui, services: Services) -> None:
    """/roles: the admins, the coordinators and how many invitation links are unused."""
    found = await services.reports.access.roles(ui.actor)
    await ui.show(views.lines_view(views.text.roles_lines(found)))


async def audit(ui: Ui, services: Services) -> None:
    """/audit [page]: coordinator and admin actions, newest first, a page at a time."""
    page = ui.args[0] if ui.args else "1"
    await _audit_page(ui, services, int(page) if page.isdecimal() else 1)


async def audit_button(ui: Ui, services: Services) -> None:
    """Newer or older entries under /audit."""
    await _audit_page(ui, services, ui.data(views.ShowAudit).page)


async def _audit_page(ui: Ui, services: Services, page: int) -> None:
    found = await services.reports.access.audit(ui.actor, page)
    await ui.show(views.audit(found), edit=ui.is_tap, flow=FLOW)


# -- buttons --------------------------------------------------------------------------------


async def choose_dimension(ui: Ui, services: Services) -> None:
    """A dimension under the summary: the groups of it that can be shown."""
    dimension = ui.data(views.ChooseDimension).dimension
    found = await services.reports.filters(ui.actor, dimension)
    await ui.show(views.groups(services.reports.survey, found), flow=FLOW)


async def show_group(ui: Ui, services: Services) -> None:
    """A group's button: its summary."""
    await _summary(ui, services, ui.data(views.ShowGroup).group)


async def comments_button(ui: Ui, services: Services) -> None:
    """A question's or a page's button under /comments."""
    data = ui.data(views.ShowComments)
    await _comments_page(ui, services, data.question, data.page)


def register(application: Application) -> None:
    application.add_handler(
        command("start", redeem, filters.Regex(rf"^/start(@\w+)?\s+{GRANT_PREFIX}"), stop=True),
        group=-5,
    )
    for name, handler in {
        "summary": summary,
        "chart": chart,
        "comments": comments,
        "export": export,
        "reports": reports_help,
        "grant": grant,
        "revoke": revoke,
        "roles": roles,
        "audit": audit,
    }.items():
        application.add_handler(command(name, handler))
    application.add_handler(button(views.ChooseDimension, choose_dimension))
    application.add_handler(button(views.ShowGroup, show_group))
    application.add_handler(button(views.ShowComments, comments_button))
    application.add_handler(button(views.RevokeCoordinator, revoke_button))
    application.add_handler(button(views.ShowAudit, audit_button))


FEATURE = Feature("reports", COMMANDS, ERRORS, register)
