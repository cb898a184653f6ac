"""Respondent-facing use cases: what happens when someone starts, answers, goes back, leaves.

Each method takes plain values from a handler and returns a screen (a small dataclass) for
the handler to render. State lives only in the store, so any instance can serve any update.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta

from bot.core.errors import DuplicateUpdate
from bot.core.ports import ProcessedUpdates, Transactions
from bot.core.sent import SentMessage
from bot.survey import engine
from bot.survey.errors import (
    AlreadyAnswered,
    EditAfterCompletion,
    EditNotAnAnswer,
    NoActiveSurvey,
    NothingToGoBackTo,
    NotOptional,
    PasteContinued,
    PasteTooLong,
    RoundClosed,
    StaleQuestion,
    SurveyAlreadyCompleted,
    TextTooLong,
)
from bot.survey.model import ANSWERED_TYPES, Option, Question, QuestionType, Survey
from bot.survey.ports import Round, RoundStore, SurveyCatalog, SurveyStore
from bot.survey.schema import validate
from bot.survey.state import AnswerValue, Progress, Respondent, Status


@dataclass(frozen=True, slots=True)
class ChooseLanguage:
    suggested: str


@dataclass(frozen=True, slots=True)
class AskConsent:
    survey: Survey


@dataclass(frozen=True, slots=True)
class ByInvitationOnly:
    """Links are required (HIWAR_REQUIRE_LINK) and the person came through none."""


@dataclass(frozen=True, slots=True)
class Declined:
    pass


@dataclass(frozen=True, slots=True)
class StillTakingPart:
    """"No, thank you" on an old consent card from someone who has answers stored."""


@dataclass(frozen=True, slots=True)
class AskQuestion:
    question: Question
    position: engine.Position
    previous: AnswerValue = None
    """The answer given before, when the question is asked again (after /back, or in a round
    started from the answers of an earlier one)."""
    answered_before: bool = False
    draft: tuple[str, ...] = ()
    can_go_back: bool = False
    introduction: Survey | None = None
    """Set on the very first question, so the survey's introduction is shown with it."""
    options: tuple[Option, ...] = ()
    """The options offered: those the question's choice filter lets through."""
    page: int = 0
    """Which page of options is shown, when there are too many for one keyboard."""

    @property
    def can_keep(self) -> bool:
        """Whether the earlier answer can be given again with one tap ("Keep"): a multiple
        choice shows it ticked (Done keeps it), a note or an acknowledgement has one button."""
        return self.answered_before and self.question.type in KEEPABLE


@dataclass(frozen=True, slots=True)
class Completed:
    answers: tuple[tuple[Question, AnswerValue], ...]


@dataclass(frozen=True, slots=True)
class Recorded:
    """An answer was stored; `then` is what comes next."""

    question: Question
    value: AnswerValue
    then: AskQuestion | Completed


@dataclass(frozen=True, slots=True)
class AnswerUpdated:
    """An edited message changed the answer it gave."""

    question: Question
    value: AnswerValue


@dataclass(frozen=True, slots=True)
class OfferResume:
    answered: int
    total: int


@dataclass(frozen=True, slots=True)
class OfferRound:
    """A new round is open and the person answered an earlier one: their previous answers as
    the starting point, or a fresh start."""

    round: Round


@dataclass(frozen=True, slots=True)
class Paused:
    pass


@dataclass(frozen=True, slots=True)
class AlreadyCompleted:
    pass


@dataclass(frozen=True, slots=True)
class StoredResponse:
    progress: Progress
    round: Round | None
    """The round it was started in (None: none was open)."""
    answers: tuple[tuple[Question, AnswerValue], ...] = field(default=())


@dataclass(frozen=True, slots=True)
class MyData:
    respondent: Respondent | None
    responses: tuple[StoredResponse, ...] = ()
    """Every response of the person, in every round, the oldest first."""


Screen = (
    ChooseLanguage
    | AskConsent
    | ByInvitationOnly
    | Declined
    | StillTakingPart
    | AskQuestion
    | Recorded
    | OfferResume
    | OfferRound
    | Paused
    | AlreadyCompleted
    | Completed
)


KEEPABLE = frozenset(
    {QuestionType.SINGLE_CHOICE, QuestionType.AGREEMENT_SCALE, *engine.TYPED}
)
"""Question types whose earlier answer has a "Keep" button."""

SPLIT_PASTE = 3900
"""A refused text this long may be the first part of a paste that Telegram split into
messages of at most 4,096 characters."""
PASTE_GAP = timedelta(seconds=3)


def _continues(paste: SentMessage | None, sent: SentMessage) -> bool:
    """Whether a message is the next part of a refused paste: the next message id, sent
    within seconds (the parts of a split paste arrive together)."""
    return (
        paste is not None
        and sent.message_id == paste.message_id + 1
        and abs(sent.sent_at - paste.sent_at) <= PASTE_GAP
    )


class SurveyService:
    def __init__(
        self,
        store: SurveyStore,
        updates: ProcessedUpdates,
        transactions: Transactions,
        survey: Survey,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        catalog: SurveyCatalog | None = None,
        require_link: bool = False,
        rounds: RoundStore | None = None,
    ) -> None:
        """A use case writing more than once does it in one `transactions.atomic()` block,
        so that a crash half-way leaves nothing half-done. `survey` is the one new
        respondents get; with a `catalog`, people who started another version finish it;
        with `rounds`, a new response starts in the round open at that moment.
        `require_link` (HIWAR_REQUIRE_LINK): only people who came through a campaign link
        for the survey may start it."""
        self._store = store
        self._updates = updates
        self._transactions = transactions
        self.survey = survey
        self._clock = clock
        self._catalog = catalog
        self._require_link = require_link
        self._rounds = rounds
        self._versions: dict[tuple[str, int], Survey] = {(survey.id, survey.version): survey}
        self._followers: list[Callable[[Survey], Awaitable[None]]] = []

    # -- versions ----------------------------------------------------------------------

    def follow(self, follower: Callable[[Survey], Awaitable[None]]) -> None:
        """Have `follower` told of each survey activated (reports follow what is asked)."""
        self._followers.append(follower)

    async def activate(self, survey: Survey) -> None:
        """From now on new respondents get `survey`; nobody's response changes version."""
        self._versions[survey.id, survey.version] = survey
        self.survey = survey
        for follower in self._followers:
            await follower(survey)

    async def refresh(self) -> None:
        """Take up the survey another instance published (they share the catalog)."""
        if self._catalog is None:
            return
        document = await self._catalog.active_document()
        if document is None or (document["id"], document["version"]) == (
            self.survey.id,
            self.survey.version,
        ):
            return
        survey, _errors = validate(document)
        if survey is not None:
            await self.activate(survey)

    async def _survey_of(self, progress: Progress) -> Survey:
        """The version a response was started on (the active one if it is unknown)."""
        key = (progress.survey_id, progress.survey_version)
        if key not in self._versions and self._catalog is not None:
            document = await self._catalog.document(*key)
            survey = validate(document)[0] if document is not None else None
            if survey is not None:
                self._versions[key] = survey
        return self._versions.get(key, self.survey)

    async def open_round(self) -> Round | None:
        """The round of the active survey open now (None: none, new responses are round 0)."""
        return await self._rounds.open_round(self.survey.id) if self._rounds else None

    async def _progress_of(self, user_id: int) -> Progress | None:
        """The response the person is answering, to whichever survey and round (someone
        mid-survey when a round closes finishes it in that round); else theirs to the active
        survey in the round open now (None: they have not started it), or, with no round
        open, in the latest round they answered."""
        progress = await self._store.get_open_progress(user_id)
        if progress is not None:
            return progress
        current = await self.open_round()
        round_id = current.round_id if current is not None else None
        return await self._store.get_progress(user_id, self.survey.id, round_id)

    async def _round_offer(self, user_id: int) -> OfferRound | None:
        """The invitation into the open round, for someone who completed an earlier one."""
        current = await self.open_round()
        previous = await self._store.get_last_completed(user_id, self.survey.id)
        if current is None or previous is None or previous.round_id == current.round_id:
            return None
        return OfferRound(current)

    # -- entering ----------------------------------------------------------------------

    async def language_of(self, user_id: int) -> str | None:
        """The language the person chose, if they did; a survey in one language has no other."""
        if len(self.survey.languages) == 1:
            return self.survey.languages[0]
        respondent = await self._store.get_respondent(user_id)
        return respondent.language if respondent is not None else None

    async def begin(self, user_id: int, suggested_language: str) -> Screen:
        """/start, or any message from someone who is not answering right now."""
        respondent = await self._store.get_respondent(user_id)
        if respondent is None or respondent.language is None:
            if len(self.survey.languages) == 1:
                return await self.choose_language(user_id, self.survey.languages[0])
            return ChooseLanguage(suggested_language)
        return await self._after_language(respondent)

    async def choose_language(self, user_id: int, language: str) -> Screen:
        await self._store.save_language(user_id, language, self._clock())
        respondent = await self._store.get_respondent(user_id)
        assert respondent is not None
        return await self._after_language(respondent, reshow=True)

    async def _after_language(self, respondent: Respondent, reshow: bool = False) -> Screen:
        progress = await self._progress_of(respondent.user_id)
        if progress is None:
            offer = await self._round_offer(respondent.user_id)
            return offer or await self._ask_consent(respondent.user_id)
        if progress.status == Status.COMPLETED:
            return AlreadyCompleted()
        survey = await self._survey_of(progress)
        if reshow and progress.status == Status.IN_PROGRESS:
            return self._ask(progress, survey)
        return self._resume_offer(progress, survey)

    async def consent(self, user_id: int, agreed: bool, round_id: int | None = None) -> Screen:
        """The consent card's answer; "I agree" starts a response in round `round_id` (None:
        the round open now, if any)."""
        progress = await self._progress_of(user_id)
        if not agreed:
            # "No, thank you" on an old consent card must not claim that nothing is stored
            # (in this round or an earlier one).
            stored = progress is not None or bool(await self._store.get_responses(user_id))
            return StillTakingPart() if stored else Declined()
        if progress is not None:
            if progress.status == Status.COMPLETED:
                return AlreadyCompleted()
            # a second tap on "I agree": carry on, do not restart
            return self._ask(progress, await self._survey_of(progress))
        if offer := await self._round_offer(user_id):
            return offer  # an old consent card, tapped by someone who answered before
        survey, now = self.survey, self._clock()
        campaign = await self._store.get_campaign(user_id, survey.id)
        if campaign is None and self._require_link:
            return ByInvitationOnly()
        if round_id is None and campaign is not None:
            round_id = campaign.round_id  # a link made for one round lands in it
        current = await (self.open_round() if round_id is None else self._joinable(round_id))
        async with self._transactions.atomic():
            await self._store.save_consent(user_id, now)
            progress = await self._store.start_progress(
                user_id,
                survey.id,
                survey.version,
                engine.first_question(survey).id,
                now,
                round_id=current.round_id if current is not None else 0,
                source=campaign.source if campaign else None,
            )
        return self._ask(progress, survey)

    async def _ask_consent(self, user_id: int) -> AskConsent | ByInvitationOnly:
        """The consent card, unless links are required and the person came through none."""
        if self._require_link and await self._store.get_campaign(user_id, self.survey.id) is None:
            return ByInvitationOnly()
        return AskConsent(self.survey)

    async def _source(self, user_id: int) -> str | None:
        """The source of the campaign link the person last came through, if any."""
        campaign = await self._store.get_campaign(user_id, self.survey.id)
        return campaign.source if campaign else None

    async def join_round(
        self, user_id: int, reuse_previous: bool, round_id: int | None = None
    ) -> Screen:
        """Start a response of the active survey in round `round_id` (None: the one open
        now), after consent; `reuse_previous`: with the answers of the person's latest
        completed response as the starting point (each question shows its earlier answer,
        kept with one tap or changed). A response being answered (in any round) goes on."""
        respondent = await self._store.get_respondent(user_id)
        if respondent is None or respondent.consented_at is None:
            return AskConsent(self.survey)
        joined = await self._joinable(round_id)
        survey = self.survey
        async with self._transactions.atomic():
            progress = await self._store.get_open_progress(user_id)
            if progress is None:
                progress = await self._store.get_progress(user_id, survey.id, joined.round_id)
            if progress is not None and progress.status == Status.COMPLETED:
                raise SurveyAlreadyCompleted
            if progress is not None:
                return self._ask(progress, await self._survey_of(progress))
            previous = await self._store.get_last_completed(user_id, survey.id)
            progress = await self._store.start_progress(
                user_id,
                survey.id,
                survey.version,
                engine.first_question(survey).id,
                self._clock(),
                round_id=joined.round_id,
                answers_from=previous.response_id if reuse_previous and previous else None,
                source=await self._source(user_id),
            )
        return self._ask(progress, survey)

    async def _joinable(self, round_id: int | None) -> Round:
        """The open round of the active survey that `round_id` names (None: the open one)."""
        if round_id is None:
            joined = await self.open_round()
        else:
            joined = await self._rounds.get_round(round_id) if self._rounds else None
        if joined is None or joined.closed_at is not None or joined.survey_id != self.survey.id:
            raise RoundClosed
        return joined

    async def resume(self, user_id: int, start_over: bool) -> Screen:
        """Continue, or start the same version over (a new version is for new people)."""
        async with self._transactions.atomic():
            progress, survey = await self._active(user_id, allow_paused=True)
            if start_over:
                progress = await self._store.start_progress(
                    user_id,
                    survey.id,
                    survey.version,
                    engine.first_question(survey).id,
                    self._clock(),
                    round_id=progress.round_id,
                    source=await self._source(user_id),
                )
            elif progress.status == Status.PAUSED:
                await self._store.set_status(
                    progress.response_id, Status.IN_PROGRESS, self._clock()
                )
        return self._ask(progress, survey)

    async def pause(self, user_id: int) -> Paused:
        progress, _survey = await self._active(user_id, allow_paused=True)
        await self._store.set_status(progress.response_id, Status.PAUSED, self._clock())
        return Paused()

    async def where_stopped(self, user_id: int, response_id: int) -> OfferResume | None:
        """How far the person got in this response, if it is the one they are answering
        (for a reminder; None: finished, started over, or gone)."""
        progress = await self._store.get_open_progress(user_id)
        if progress is None or progress.response_id != response_id:
            return None
        survey = await self._survey_of(progress)
        if not survey.has_question(progress.current or ""):
            return None
        return self._resume_offer(progress, survey)

    async def current(self, user_id: int) -> AskQuestion:
        progress, survey = await self._active(user_id, allow_paused=True)
        return self._ask(progress, survey)

    async def show_page(self, user_id: int, question_id: str, page: int) -> AskQuestion:
        """Another page of the current question's options (a page that is gone: the last)."""
        progress, survey = await self._active(user_id, allow_paused=True)
        self._current_question(progress, survey, question_id)
        asked = self._ask(progress, survey)
        last = engine.page_count(len(asked.options)) - 1
        return replace(asked, page=min(max(page, 0), last))

    # -- answering ---------------------------------------------------------------------

    async def answer_button(
        self, user_id: int, question_id: str, raw_value: str, update_id: int | None
    ) -> Recorded:
        """A tap on a single-choice option, an agreement-scale value, or the one button of a
        note or an acknowledgement."""
        progress, survey = await self._active(user_id, allow_paused=True, update_id=update_id)
        question = self._question_for_button(progress, survey, question_id, raw_value)
        value: AnswerValue
        if question.type == QuestionType.AGREEMENT_SCALE:
            value: AnswerValue = engine.parse_scale(raw_value, question.dont_know)
        elif question.type == QuestionType.SINGLE_CHOICE:
            shown = engine.options_shown(survey, progress.answers, question)
            value = engine.parse_option(question, raw_value, shown)
        elif question.type == QuestionType.ACKNOWLEDGE and raw_value == engine.ACKNOWLEDGED:
            value = engine.ACKNOWLEDGED
        elif question.type == QuestionType.NOTE and raw_value == engine.ACKNOWLEDGED:
            value = None
        else:
            raise StaleQuestion
        engine.check_constraint(survey, progress.answers, question, value)
        return await self._record(progress, survey, question, value, update_id)

    async def keep_answer(
        self, user_id: int, question_id: str, update_id: int | None
    ) -> Recorded:
        """"Keep" under a question answered before (in an earlier round, or before /back):
        the earlier answer, checked again against the survey, is the answer."""
        progress, survey = await self._active(user_id, allow_paused=True, update_id=update_id)
        question = self._current_question(progress, survey, question_id)
        asked = self._ask(progress, survey)
        if not asked.can_keep:
            raise StaleQuestion
        value = asked.previous
        if value is None and not question.optional:
            raise StaleQuestion
        if question.type == QuestionType.SINGLE_CHOICE and value is not None:
            shown = engine.options_shown(survey, progress.answers, question)
            value = engine.parse_option(question, str(value), shown)
        engine.check_constraint(survey, progress.answers, question, value)
        return await self._record(progress, survey, question, value, update_id)

    async def use_default(self, user_id: int, question_id: str, update_id: int | None) -> Recorded:
        """The button offering a typed question's default answer."""
        progress, survey = await self._active(user_id, allow_paused=True, update_id=update_id)
        question = self._current_question(progress, survey, question_id)
        if question.default is None or question.type not in engine.TYPED:
            raise StaleQuestion
        value = engine.parse_text_answer(question, question.default)
        engine.check_constraint(survey, progress.answers, question, value)
        return await self._record(progress, survey, question, value, update_id)

    async def toggle_choice(
        self, user_id: int, question_id: str, option_id: str, update_id: int | None
    ) -> AskQuestion:
        progress, survey = await self._active(user_id, allow_paused=True, update_id=update_id)
        question = self._current_question(
            progress, survey, question_id, QuestionType.MULTIPLE_CHOICE
        )
        asked = self._ask(progress, survey)
        draft = engine.toggle(question, asked.draft, option_id, asked.options)
        now = self._clock()
        async with self._transactions.atomic():
            await self._claim(update_id, now)
            await self._store.save_draft(progress.response_id, draft, now)
        progress.draft = draft
        index = next(n for n, option in enumerate(asked.options) if option.id == option_id)
        page = engine.page_of(index, len(asked.options))
        return replace(self._ask(progress, survey), page=page)

    async def finish_choices(
        self, user_id: int, question_id: str, update_id: int | None
    ) -> Recorded:
        progress, survey = await self._active(user_id, allow_paused=True, update_id=update_id)
        if question_id != progress.current and question_id in progress.answers:
            raise AlreadyAnswered(question_id)  # "Done" tapped twice
        question = self._current_question(
            progress, survey, question_id, QuestionType.MULTIPLE_CHOICE
        )
        value = engine.finish_selection(self._ask(progress, survey).draft)
        engine.check_constraint(survey, progress.answers, question, value)
        return await self._record(progress, survey, question, value, update_id)

    async def answer_text(
        self, user_id: int, text: str, update_id: int | None, sent: SentMessage | None = None
    ) -> Recorded:
        """Typed text for the current question; `sent`: which message it is, and when it was
        sent (for edits later, and for the parts of a paste that Telegram split)."""
        progress, survey = await self._active(user_id, update_id=update_id)
        if sent is not None and _continues(progress.paste, sent):
            await self._note_paste(progress, sent, update_id)
            raise PasteContinued
        question = survey.question(progress.current or "")
        try:
            value = engine.parse_text_answer(question, text)
        except TextTooLong as error:
            if sent is None or len(text) < SPLIT_PASTE:
                raise
            await self._note_paste(progress, sent, update_id)
            raise PasteTooLong(error.limit) from None
        engine.check_constraint(survey, progress.answers, question, value)
        message_id = sent.message_id if sent is not None else None
        return await self._record(progress, survey, question, value, update_id, message_id)

    async def edit_answer(
        self, user_id: int, message_id: int, text: str, update_id: int | None
    ) -> AnswerUpdated:
        """An edited message: the answer it gave, and no other, is checked and changed."""
        if update_id is not None and await self._updates.was_processed(update_id):
            raise DuplicateUpdate
        progress = await self._progress_of(user_id)
        question_id = (
            await self._store.question_of_message(progress.response_id, message_id)
            if progress is not None
            else None
        )
        survey = await self._survey_of(progress) if progress is not None else self.survey
        if progress is None or question_id is None or not survey.has_question(question_id):
            raise EditNotAnAnswer
        if progress.status == Status.COMPLETED:
            raise EditAfterCompletion
        question = survey.question(question_id)
        value = engine.parse_text_answer(question, text)
        engine.check_constraint(survey, progress.answers, question, value)
        now = self._clock()
        async with self._transactions.atomic():
            await self._claim(update_id, now)
            await self._store.replace_answer(progress.response_id, question_id, value, now)
        return AnswerUpdated(question, value)

    async def skip(self, user_id: int, question_id: str | None, update_id: int | None) -> Recorded:
        """/skip (question_id None: the current question) or a Skip button."""
        progress, survey = await self._active(user_id, allow_paused=True, update_id=update_id)
        question = self._current_question(progress, survey, question_id or progress.current or "")
        if not question.optional:
            raise NotOptional(question.required_message)
        return await self._record(progress, survey, question, None, update_id)

    async def back(self, user_id: int, from_question: str | None = None) -> AskQuestion:
        """/back, or the Back button of `from_question` (stale unless it is the current one)."""
        progress, survey = await self._active(user_id, allow_paused=True)
        if from_question is not None and from_question != progress.current:
            raise StaleQuestion
        previous = engine.previous_question(survey, progress.answers, progress.current or "")
        if previous is None:
            raise NothingToGoBackTo
        await self._store.move_to(progress.response_id, previous.id, self._clock())
        progress.current, progress.draft = previous.id, None
        return self._ask(progress, survey)

    # -- the respondent's own data -----------------------------------------------------

    async def my_data(self, user_id: int) -> MyData:
        """Everything stored about the person: each of their responses, in every round."""
        respondent = await self._store.get_respondent(user_id)
        responses = []
        for progress in await self._store.get_responses(user_id):
            survey = await self._survey_of(progress)
            started_in = (
                await self._rounds.get_round(progress.round_id)
                if self._rounds and progress.round_id
                else None
            )
            responses.append(
                StoredResponse(progress, started_in, _ordered(survey, progress.answers))
            )
        return MyData(respondent, tuple(responses))

    async def delete_everything(self, user_id: int) -> bool:
        """/delete, confirmed: every row about the person, then the database's copies."""
        async with self._transactions.atomic():
            erased = await self._store.delete_respondent(user_id)
        await self._store.purge_erased()
        return erased

    # -- internals ---------------------------------------------------------------------

    async def _active(
        self, user_id: int, allow_paused: bool = False, update_id: int | None = None
    ) -> tuple[Progress, Survey]:
        """The user's response being answered, and the version it is on; a re-delivered
        update is refused first, so that it is recognised even when it would also look like
        a repeated tap."""
        if update_id is not None and await self._updates.was_processed(update_id):
            raise DuplicateUpdate
        progress = await self._progress_of(user_id)
        if progress is None:
            raise NoActiveSurvey
        if progress.status == Status.COMPLETED:
            raise SurveyAlreadyCompleted
        survey = await self._survey_of(progress)
        if not survey.has_question(progress.current or ""):
            raise NoActiveSurvey
        if progress.status == Status.PAUSED and not allow_paused:
            raise NoActiveSurvey
        return progress, survey

    async def _claim(self, update_id: int | None, at: datetime) -> None:
        """Mark the update applied, in the block that applies it; a re-delivery is refused."""
        if update_id is not None and not await self._updates.claim_update(update_id, at):
            raise DuplicateUpdate

    def _current_question(
        self,
        progress: Progress,
        survey: Survey,
        question_id: str,
        expected: QuestionType | None = None,
    ) -> Question:
        if question_id != progress.current or not survey.has_question(question_id):
            raise StaleQuestion
        question = survey.question(question_id)
        if expected is not None and question.type != expected:
            raise StaleQuestion
        return question

    def _question_for_button(
        self, progress: Progress, survey: Survey, question_id: str, raw: str
    ) -> Question:
        if question_id != progress.current and progress.answers.get(question_id, object()) in (
            raw,
            _as_int(raw),
        ):
            raise AlreadyAnswered(question_id)
        return self._current_question(progress, survey, question_id)

    async def _note_paste(self, progress: Progress, sent: SentMessage, update_id: int | None) -> None:
        async with self._transactions.atomic():
            await self._claim(update_id, self._clock())
            await self._store.note_paste(progress.response_id, sent)

    async def _record(
        self,
        progress: Progress,
        survey: Survey,
        question: Question,
        value: AnswerValue,
        update_id: int | None,
        message_id: int | None = None,
    ) -> Recorded:
        answers = {**progress.answers, question.id: value}
        following = engine.next_question(survey, answers, question.id)
        now = self._clock()
        async with self._transactions.atomic():
            await self._claim(update_id, now)
            await self._store.save_answer(
                progress.response_id,
                question.id,
                value,
                following.id if following else None,
                now,
                message_id,
            )
            if following is None:
                kept = engine.answers_on_path(survey, answers)
                await self._store.complete(progress.response_id, kept.keys(), now)
                return Recorded(question, value, Completed(_ordered(survey, kept)))
        progress.answers, progress.current, progress.draft = answers, following.id, None
        return Recorded(question, value, self._ask(progress, survey))

    def _ask(self, progress: Progress, survey: Survey) -> AskQuestion:
        question = survey.question(progress.current or "")
        pos = engine.position(survey, progress.answers, question.id)
        answers = progress.answers if question.id in progress.answers else progress.earlier
        answered_before = question.id in answers
        previous = answers.get(question.id)
        options = engine.options_shown(survey, progress.answers, question)
        draft = progress.draft
        if draft is None:
            draft = tuple(previous) if isinstance(previous, list) else ()
            if not answered_before and question.type == QuestionType.MULTIPLE_CHOICE:
                suggested = (question.default or "").split()
                draft = tuple(option.id for option in options if option.id in suggested)
        return AskQuestion(
            question=question,
            position=pos,
            previous=previous,
            answered_before=answered_before,
            draft=draft,
            can_go_back=pos.number > 1,
            introduction=survey if pos.number == 1 and not progress.answers else None,
            options=options,
        )

    def _resume_offer(self, progress: Progress, survey: Survey) -> OfferResume:
        pos = engine.position(survey, progress.answers, progress.current or "")
        return OfferResume(answered=pos.number - 1, total=pos.total)


def _ordered(
    survey: Survey, answers: dict[str, AnswerValue]
) -> tuple[tuple[Question, AnswerValue], ...]:
    return tuple(
        (q, answers[q.id]) for q in survey.questions if q.id in answers and q.type in ANSWERED_TYPES
    )


def _as_int(raw: str) -> int | None:
    try:
        return int(raw)
    except ValueError:
        return None
