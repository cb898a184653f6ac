"""Publishing a survey from the chat: an admin sends a survey file, sees its problems or a
preview, and publishes it or cancels. The new version is what people who start from then on
get; everyone mid-survey finishes the version they began (bot/survey/service.py). Every
publication and every refused file goes to the audit log.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Final

from bot.core.access import Access, Action, Actor, Role
from bot.core.clock import Clock, utc_now
from bot.core.i18n import N_, Message
from bot.core.ports import Transactions
from bot.survey.errors import UploadGone, VersionTaken
from bot.survey.loader import SurveyFileError, too_large
from bot.survey.model import Survey
from bot.survey.ports import PublishedVersion, SurveyCatalog
from bot.survey.schema import validate
from bot.survey.service import SurveyService
from bot.survey.sources import check_upload

MAX_UPLOAD_BYTES: Final = 5_000_000
"""A survey file is a few hundred kilobytes at most; larger files are refused unread."""

PUBLISH = Action("survey_published", N_("Published a survey"))
REFUSE = Action("survey_refused", N_("Sent a survey file that was refused"))
CANCEL = Action("survey_upload_cancelled", N_("Cancelled publishing a survey"))


@dataclass(frozen=True, slots=True)
class Refused:
    file_name: str
    problems: tuple[Message, ...]


@dataclass(frozen=True, slots=True)
class Preview:
    upload_id: int
    file_name: str
    survey: Survey
    left_out: tuple[Message, ...]


@dataclass(frozen=True, slots=True)
class Published:
    survey: Survey


@dataclass(frozen=True, slots=True)
class Versions:
    versions: tuple[PublishedVersion, ...]
    active: tuple[str, int]


class Publishing:
    def __init__(
        self,
        catalog: SurveyCatalog,
        access: Access,
        service: SurveyService,
        transactions: Transactions,
        clock: Clock = utc_now,
    ) -> None:
        self._catalog = catalog
        self._access = access
        self._service = service
        self._transactions = transactions
        self._clock = clock

    async def upload(
        self,
        actor: Actor,
        file_name: str,
        size: int | None,
        fetch: Callable[[], Awaitable[bytes]],
    ) -> Refused | Preview:
        """A file an admin sent: its problems, or a preview kept until published or
        cancelled. `fetch` downloads it; a file too large is refused without it."""
        await self._access.check(actor.user_id, Role.ADMIN)
        try:
            if size is not None and size > MAX_UPLOAD_BYTES:
                raise SurveyFileError(file_name, [too_large(size, MAX_UPLOAD_BYTES)])
            checked = check_upload(file_name, await fetch())
            survey = checked.survey
            if await self._catalog.document(survey.id, survey.version) is not None:
                taken = Message(
                    "version {version} of survey {id} is already published: "
                    "give the file a higher version",
                    version=survey.version,
                    id=survey.id,
                )
                raise SurveyFileError(file_name, [taken])
        except SurveyFileError as error:
            problems = error.details
            await self._access.record(actor, Role.ADMIN, REFUSE, f"{file_name}: {problems[0]}")
            return Refused(file_name, problems)
        upload_id = await self._catalog.add_upload(
            checked.document, file_name, actor.user_id, self._clock()
        )
        return Preview(upload_id, file_name, survey, checked.left_out)

    async def publish(self, actor: Actor, upload_id: int) -> Published:
        """Make an upload the survey new respondents get."""
        await self._access.check(actor.user_id, Role.ADMIN)
        upload = await self._catalog.pending_upload(upload_id)
        if upload is None:
            raise UploadGone
        survey, _errors = validate(upload.document)
        assert survey is not None, "only checked surveys are uploaded"
        async with self._transactions.atomic():
            if await self._catalog.document(survey.id, survey.version) is not None:
                raise VersionTaken(survey.id, survey.version)
            await self._catalog.publish(upload_id, self._clock())
            detail = f"{survey.id} version {survey.version} ({upload.file_name})"
            await self._access.record(actor, Role.ADMIN, PUBLISH, detail)
        await self._service.activate(survey)
        return Published(survey)

    async def cancel(self, actor: Actor, upload_id: int) -> None:
        await self._access.check(actor.user_id, Role.ADMIN)
        upload = await self._catalog.pending_upload(upload_id)
        if upload is None:
            raise UploadGone
        async with self._transactions.atomic():
            await self._catalog.cancel(upload_id)
            await self._access.record(actor, Role.ADMIN, CANCEL, upload.file_name)

    async def versions(self, actor: Actor) -> Versions:
        """/surveys: every version published, with how many people started and finished it."""
        await self._access.check(actor.user_id, Role.ADMIN)
        active = self._service.survey
        return Versions(tuple(await self._catalog.versions()), (active.id, active.version))
