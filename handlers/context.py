"""The one typed accessor from a PTB callback context to Hiwar's services."""

from __future__ import annotations

from dataclasses import dataclass

from telegram.ext import ContextTypes

from bot.config import Settings
from bot.invitations.service import InvitationService
from bot.reports.service import ReportService
from bot.survey.ports import RespondentStore
from bot.survey.service import SurveyService
from storage import Storage

SERVICES_KEY = "hiwar"


@dataclass(frozen=True, slots=True)
class Services:
    settings: Settings
    storage: Storage
    survey: SurveyService
    invitations: InvitationService
    reports: ReportService

    @property
    def store(self) -> RespondentStore:
        """The respondents, for handlers/survey.py's locale middleware (which could read
        `storage.respondents` instead)."""
        return self.storage.respondents


def services(context: ContextTypes.DEFAULT_TYPE) -> Services:
    found = context.bot_data[SERVICES_KEY]
    assert isinstance(found, Services)
    return found
