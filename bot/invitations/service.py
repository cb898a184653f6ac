"""Invitation use cases behind the handlers: the admins' wizard, RSVPs, unsubscribing, listing.

Each method takes plain values and returns a small screen for the handler to render, or raises
a named error. All state (the wizard's too) is in the store, so a restart loses nothing.
Sending is not done here: `launch` stores the send list and the delivery engine picks it up.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta

from bot.core.access import Access, Action, Actor, Role
from bot.core.i18n import N_
from bot.invitations import audience, clock, wizard
from bot.invitations.errors import (
    EventStarted,
    NobodyToInvite,
    NoInvitationDraft,
    PreviewOnly,
    UnknownInvitation,
)
from bot.invitations.model import (
    REMINDED,
    Audience,
    Dimension,
    Invitation,
    InvitationSummary,
    OptOut,
    Rsvp,
)
from bot.invitations.ports import InvitationStore
from bot.invitations.wizard import Draft, Step
from bot.survey.errors import ButtonExpected
from bot.survey.model import Survey

OPEN_WIZARD = Action("invite", N_("invitation wizard opened"))
LAUNCH = Action("launch", N_("invitation sent"))
DISCARD = Action("discard", N_("invitation discarded"))
OVERVIEW = Action("invitations", N_("list of invitations"))
"""What the audit log records of this feature; the wizard's steps in between are checked
(admins only) but not recorded one by one."""

PREVIEW_ID = 0
"""The invitation id on the buttons of a preview (real ids start at 1)."""
LISTED = 10
"""How many invitations /invitations shows, newest first."""


@dataclass(frozen=True, slots=True)
class WizardScreen:
    """The wizard at `draft.step`; on the audience and preview steps also the recipients (by
    language) and the values each audience dimension offers."""

    draft: Draft
    recipients: Mapping[str, int] | None = None
    choices: Mapping[Dimension, tuple[audience.Choice, ...]] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Launched:
    invitation_id: int
    recipients: int


@dataclass(frozen=True, slots=True)
class RsvpSaved:
    invitation: Invitation
    answer: Rsvp
    reminder_at: datetime | None


def reminder_time(invitation: Invitation, answer: Rsvp, now: datetime) -> datetime | None:
    """When to remind someone who gave `answer` at `now`; None: no reminder.

    Attending and maybe are reminded `remind_before` the start. Someone answering after that
    moment has just looked at the invitation, so they are not reminded.
    """
    if answer not in REMINDED:
        return None
    # In UTC: "24 hours before" is 24 real hours, also across a change of the clocks.
    due = invitation.event.starts_at.astimezone(UTC) - invitation.remind_before
    return due if due > now else None


class InvitationService:
    def __init__(
        self,
        store: InvitationStore,
        survey: Survey,
        access: Access,
        remind_before: timedelta,
    ) -> None:
        self._store = store
        self._survey = survey
        self._access = access
        self._remind_before = remind_before
        self.dimensions = audience.dimensions(survey)

    def choices(self, dimension: Dimension) -> tuple[audience.Choice, ...]:
        return audience.choices(self._survey, dimension)

    # -- the wizard --------------------------------------------------------------------

    async def open_wizard(self, admin: Actor) -> WizardScreen:
        """/invite: a new draft, or the one in progress shown again where it stopped."""
        await self._access.authorize(admin, Role.ADMIN, OPEN_WIZARD)
        return await self.current_step(admin)

    async def current_step(self, admin: Actor) -> WizardScreen:
        """The draft where it stands (a new one if there is none), without an audit entry."""
        await self._access.check(admin.user_id, Role.ADMIN)
        draft = await self._store.get_draft(admin.user_id)
        if draft is None:
            draft = Draft()
            await self._store.save_draft(admin.user_id, draft, clock.now())
        return await self._screen(draft)

    async def has_draft(self, user_id: int) -> bool:
        """Whether typed text from this user belongs to the wizard (cheap for non-admins)."""
        return self._access.is_admin(user_id) and await self._store.get_draft(user_id) is not None

    async def type_text(self, admin: Actor, text: str) -> WizardScreen:
        draft = await self._draft(admin)
        if draft.step not in wizard.TYPED_STEPS:
            raise ButtonExpected
        return await self._save(admin, wizard.accept(draft, text, clock.now()))

    async def back(self, admin: Actor, step: Step) -> WizardScreen:
        draft = await self._draft(admin, step)
        earlier = wizard.previous(step)
        if earlier is None:
            raise NoInvitationDraft
        return await self._save(admin, replace(draft, step=earlier, editing=None))

    async def show_filter(self, admin: Actor, dimension: Dimension | None) -> WizardScreen:
        """Show the values of one audience dimension for ticking (None: back to the summary)."""
        draft = await self._draft(admin, Step.AUDIENCE)
        if dimension is not None and dimension not in self.dimensions:
            raise NoInvitationDraft
        return await self._save(admin, replace(draft, editing=dimension))

    async def toggle_filter(self, admin: Actor, dimension: Dimension, value: str) -> WizardScreen:
        draft = await self._draft(admin, Step.AUDIENCE)
        if draft.editing != dimension or value not in {c.id for c in self.choices(dimension)}:
            raise NoInvitationDraft
        return await self._save(
            admin, replace(draft, audience=draft.audience.toggled(dimension, value))
        )

    async def everyone(self, admin: Actor) -> WizardScreen:
        draft = await self._draft(admin, Step.AUDIENCE)
        return await self._save(admin, replace(draft, audience=Audience(), editing=None))

    async def preview(self, admin: Actor) -> WizardScreen:
        draft = await self._draft(admin, Step.AUDIENCE)
        return await self._save(admin, replace(draft, step=Step.PREVIEW, editing=None))

    async def launch(self, admin: Actor, admin_language: str) -> Launched:
        """Send: store the invitation and its send list, atomically with ending the wizard."""
        draft = await self._draft(admin, Step.PREVIEW)
        selection = audience.selection(self._survey, draft.audience)
        if not sum((await self._store.count_recipients(selection)).values()):
            raise NobodyToInvite
        launched = await self._store.launch(
            admin.user_id,
            admin_language,
            draft.event(),
            draft.audience,
            selection,
            self._remind_before,
            clock.now(),
        )
        if launched is None:
            raise NoInvitationDraft
        result = Launched(*launched)
        detail = f"{result.invitation_id}: {result.recipients}"
        await self._access.authorize(admin, Role.ADMIN, LAUNCH, detail)
        return result

    async def cancel(self, admin: Actor) -> bool:
        await self._access.authorize(admin, Role.ADMIN, DISCARD)
        return await self._store.delete_draft(admin.user_id)

    # -- recipients --------------------------------------------------------------------

    async def answer(self, user_id: int, invitation_id: int, answer: Rsvp) -> RsvpSaved:
        """An RSVP button; the answer can be changed until the event starts."""
        if invitation_id == PREVIEW_ID:
            raise PreviewOnly
        invitation = await self._store.invitation_sent_to(invitation_id, user_id)
        if invitation is None:
            raise UnknownInvitation
        now = clock.now()
        if invitation.event.starts_at <= now:
            raise EventStarted
        remind_at = reminder_time(invitation, answer, now)
        scheduled = await self._store.save_rsvp(invitation_id, user_id, answer, remind_at, now)
        return RsvpSaved(invitation, answer, remind_at if scheduled else None)

    async def unsubscribe(self, user_id: int) -> None:
        """STOP or /unsubscribe: no invitation or reminder any more, including queued ones
        (until /subscribe)."""
        await self._store.opt_out(user_id, OptOut.UNSUBSCRIBED, clock.now())

    async def subscribe(self, user_id: int) -> bool:
        """/subscribe: invitations and reminders again; False if they were not stopped."""
        return await self._store.opt_in(user_id)

    async def overview(self, admin: Actor) -> list[InvitationSummary]:
        """/invitations: the latest invitations with delivery figures and RSVP counts."""
        await self._access.authorize(admin, Role.ADMIN, OVERVIEW)
        return await self._store.summaries(LISTED)

    # -- internals ---------------------------------------------------------------------

    async def _draft(self, admin: Actor, step: Step | None = None) -> Draft:
        """The admin's draft; with `step`, only if the wizard is at that step (else stale)."""
        await self._access.check(admin.user_id, Role.ADMIN)
        draft = await self._store.get_draft(admin.user_id)
        if draft is None or (step is not None and draft.step != step):
            raise NoInvitationDraft
        return draft

    async def _save(self, admin: Actor, draft: Draft) -> WizardScreen:
        await self._store.save_draft(admin.user_id, draft, clock.now())
        return await self._screen(draft)

    async def _screen(self, draft: Draft) -> WizardScreen:
        if draft.step in wizard.TYPED_STEPS:
            return WizardScreen(draft)
        selection = audience.selection(self._survey, draft.audience)
        return WizardScreen(
            draft,
            await self._store.count_recipients(selection),
            {d: self.choices(d) for d in self.dimensions},
        )
