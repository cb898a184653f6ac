"""Coordinators' and admins' handlers: parse, call ReportService, present (bot/reports/views).

An invitation link's `/start grant-…` is taken in group -5, before the respondents' /start.
"""

from __future__ import annotations

from telegram.ext import Application, filters

from bot.core.access import Role
from bot.core.i18n import DEFAULT_LANGUAGE, current_language, use_language
from bot.core.views import File
from bot.reports import views
from bot.reports.access import (
    GRANT_PREFIX,
    LINK_PREFIX,
    AwaitingConfirmation,
    parse_audit_arguments,
    parse_campaign_arguments,
)
from bot.reports.commands import COMMANDS
from bot.reports.errors import ReportError
from bot.reports.messages import ERRORS
from bot.reports.model import Arrival, AuditFilter
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


async def change(ui: Ui, services: Services) -> None:
    """/change [A B] [group]: each barrier's share who agree in two rounds, and the change."""
    result = await services.reports.change(ui.actor, ui.argument)
    await ui.show(views.change(result), flow=FLOW)


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


async def tables(ui: Ui, services: Services) -> None:
    """/tables: the latest snapshot's figures for every group it released, as spreadsheets."""
    files = await services.reports.tables(ui.actor)
    await ui.send_file(File(files.csv, "hiwar-tables.csv"))
    await ui.send_file(File(files.xlsx, "hiwar-tables.xlsx"))


async def reports_help(ui: Ui, services: Services) -> None:
    """/reports: the coordinators' commands (and the admins' ones, for admins)."""
    role = await services.reports.help(ui.actor)
    await ui.show(views.commands(role, all_commands(services.features)))


# -- admins ---------------------------------------------------------------------------------


async def grant(ui: Ui, services: Services) -> None:
    """/grant [id] [filter…]: a one-time link, valid for 24 hours: for that person only, or for
    whoever opens it once this admin confirms them; filters limit what they will see."""
    args = list(ui.args)
    for_user = int(args.pop(0)) if args and args[0].isdecimal() else None
    issued = await services.reports.access.grant(ui.actor, for_user, args)
    link = f"https://t.me/{ui.bot.username}?start={issued.code}"
    for view in views.grant_link(services.reports.survey, issued, link):
        await ui.show(view)


async def campaign(ui: Ui, services: Services) -> None:
    """/campaign: the survey's campaign links; `new SOURCE [USES]` makes one, `close SOURCE`
    closes one."""
    try:
        request = parse_campaign_arguments(ui.args)
    except ReportError:
        await services.access.check(ui.user_id, Role.ADMIN)  # roles before arguments
        raise
    links, survey_id = services.reports.access, services.reports.survey.id
    match request.action:
        case "new":
            code = await links.create_link(
                ui.actor, survey_id, request.source, request.uses, request.round_id
            )
            link = f"https://t.me/{ui.bot.username}?start={code}"
            await ui.show(views.campaign_link(link, request.source, request.uses))
        case "close":
            closed = await links.close_link(ui.actor, survey_id, request.source)
            await ui.show(views.link_closed(closed))
        case _:
            found = await links.links(ui.actor, survey_id)
            await ui.show(views.campaigns(survey_id, found), flow=FLOW)


async def close_link(ui: Ui, services: Services) -> None:
    """A Close button under /campaign: that link admits nobody from now on."""
    key, survey_id = ui.data(views.CloseLink).key, services.reports.survey.id
    source = await services.reports.access.close_link(ui.actor, survey_id, key)
    await ui.show(views.link_closed(source))


async def arrive(ui: Ui, services: Services) -> None:
    """`/start in-…`: the campaign link is noted before the respondents' /start, which then
    runs as usual (and, if links are required, lets in only those a link admitted)."""
    arrival = await services.reports.access.arrive(ui.user_id, ui.argument)
    if arrival != Arrival.ADMITTED:
        await ui.show(views.arrival_refused(arrival))


async def redeem(ui: Ui, services: Services) -> None:
    """`/start grant-…` from an invitation link: the respondents' /start never sees it."""
    outcome = await services.reports.access.redeem(ui.actor, ui.argument, current_language())
    if isinstance(outcome, AwaitingConfirmation):
        await ui.show(views.awaiting_confirmation())
        admin = outcome.grant.created_by
        with use_language(await _language_of(services, admin)):
            await ui.send_to(admin, views.confirm_grant(outcome))
        return
    await set_role_menu(ui.bot, services.features, ui.chat_id, Role.COORDINATOR)
    await ui.show(views.welcome_coordinator(services.reports.survey, outcome))


async def confirm_grant(ui: Ui, services: Services) -> None:
    """The admin's answer: the person who opened the link becomes a coordinator, or not."""
    data = ui.data(views.ConfirmGrant)
    result = await services.reports.access.confirm(ui.actor, data.key, data.user_id, data.approve)
    await ui.show(views.confirmed(result), edit=True)
    opener = result.opener.user_id
    with use_language(await services.survey.language_of(opener) or result.language):
        made = result.coordinator
        if made is None:
            await ui.send_to(opener, views.refused_opener())
            return
        await set_role_menu(ui.bot, services.features, opener, Role.COORDINATOR)
        await ui.send_to(opener, views.welcome_coordinator(services.reports.survey, made))


async def cancel_grant(ui: Ui, services: Services) -> None:
    """A Cancel button under /roles: that unused link stops working."""
    await services.reports.access.cancel(ui.actor, ui.data(views.CancelGrant).key)
    await ui.show(views.grant_cancelled())


async def _language_of(services: Services, user_id: int) -> str:
    return await services.survey.language_of(user_id) or DEFAULT_LANGUAGE


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
    await ui.show(views.roles(found, services.reports.survey), flow=FLOW)


async def audit(ui: Ui, services: Services) -> None:
    """/audit [page] [who=ID] [action=KEY]: coordinator and admin actions, newest first, a
    page at a time; one person's or one kind only."""
    page, only = parse_audit_arguments(ui.args)
    await _audit_page(ui, services, page, only)


async def audit_button(ui: Ui, services: Services) -> None:
    """Newer or older entries under /audit."""
    data = ui.data(views.ShowAudit)
    await _audit_page(ui, services, data.page, AuditFilter(data.who, data.action))


async def _audit_page(ui: Ui, services: Services, page: int, only: AuditFilter) -> None:
    found = await services.reports.access.audit(ui.actor, page, only)
    await ui.show(views.audit(found), edit=ui.is_tap, flow=FLOW)


# -- buttons --------------------------------------------------------------------------------


async def choose_dimension(ui: Ui, services: Services) -> None:
    """A dimension under the summary: the groups of it that can be shown."""
    chosen = ui.data(views.ChooseDimension)
    found = await services.reports.filters(ui.actor, chosen.dimension, chosen.round_id)
    await ui.show(views.groups(services.reports.survey, found, chosen.round_id), flow=FLOW)


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
    application.add_handler(
        command("start", arrive, filters.Regex(rf"^/start(@\w+)?\s+{LINK_PREFIX}")),
        group=-5,
    )
    for name, handler in {
        "summary": summary,
        "chart": chart,
        "change": change,
        "comments": comments,
        "export": export,
        "tables": tables,
        "reports": reports_help,
        "grant": grant,
        "revoke": revoke,
        "campaign": campaign,
        "roles": roles,
        "audit": audit,
    }.items():
        application.add_handler(command(name, handler))
    application.add_handler(button(views.ChooseDimension, choose_dimension))
    application.add_handler(button(views.ShowGroup, show_group))
    application.add_handler(button(views.ShowComments, comments_button))
    application.add_handler(button(views.RevokeCoordinator, revoke_button))
    application.add_handler(button(views.ShowAudit, audit_button))
    application.add_handler(button(views.ConfirmGrant, confirm_grant))
    application.add_handler(button(views.CancelGrant, cancel_grant))
    application.add_handler(button(views.CloseLink, close_link))


FEATURE = Feature("reports", COMMANDS, ERRORS, register)
