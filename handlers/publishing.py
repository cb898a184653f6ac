"""Admins publishing a survey from the chat: parse, call Publishing, present (bot/survey/
publishing_views.py). A document from an admin is taken in group -5, before the survey
would call it unsupported; a document from anyone else goes on to the survey."""

from __future__ import annotations

from telegram import Message
from telegram.ext import Application, filters

from bot.survey import publishing_views as views
from bot.survey.commands import PUBLISHING_COMMANDS
from bot.survey.messages import PUBLISHING_ERRORS
from handlers.base.context import SERVICES_KEY, Services
from handlers.base.feature import Feature
from handlers.base.present import Ui
from handlers.base.routing import button, command, message


async def survey_file(ui: Ui, services: Services) -> None:
    """A survey file (.yaml or .xlsx) sent by an admin: its problems, or a preview."""
    sent = ui.update.effective_message
    document = sent.document if sent is not None else None
    assert document is not None

    async def download() -> bytes:
        return bytes(await (await document.get_file()).download_as_bytearray())

    name = document.file_name or "file"
    result = await services.publishing.upload(ui.actor, name, document.file_size, download)
    if isinstance(result, views.Refused):
        await ui.show(views.refused(result))
    else:
        await ui.show(views.preview(result), flow=views.FLOW)


async def publish(ui: Ui, services: Services) -> None:
    """Publish or Cancel under a preview."""
    data = ui.data(views.PublishUpload)
    if data.confirmed:
        done = await services.publishing.publish(ui.actor, data.upload)
        await ui.show(views.published(done), edit=True)
    else:
        await services.publishing.cancel(ui.actor, data.upload)
        await ui.show(views.cancelled(), edit=True)


async def surveys(ui: Ui, services: Services) -> None:
    """/surveys: every version published, with its responses."""
    await ui.show(views.versions(await services.publishing.versions(ui.actor)))


class _FromAnAdmin(filters.MessageFilter):
    """Messages from an admin (Services are read when a message comes, not at start)."""

    def __init__(self, application: Application) -> None:
        super().__init__(name="from_an_admin")
        self._application = application

    def filter(self, message: Message) -> bool:
        services: Services = self._application.bot_data[SERVICES_KEY]
        return message.from_user is not None and services.access.is_admin(message.from_user.id)


def register(application: Application) -> None:
    documents = filters.UpdateType.MESSAGE & filters.Document.ALL & _FromAnAdmin(application)
    application.add_handler(message(documents, survey_file, stop=True), group=-5)
    application.add_handler(command("surveys", surveys))
    application.add_handler(button(views.PublishUpload, publish))


FEATURE = Feature("publishing", PUBLISHING_COMMANDS, PUBLISHING_ERRORS, register)
