"""The one typed accessor from a PTB callback context to Hiwar's services."""

from __future__ import annotations

from dataclasses import dataclass

from telegram.ext import ContextTypes

from bot.config import Settings
from bot.core.access import Access
from bot.core.errors import ErrorTable
from bot.invitations.service import InvitationService
from bot.reports.service import ReportService
from bot.survey.publishing import Publishing
from bot.survey.rounds import Rounds
from bot.survey.service import SurveyService
from handlers.base.feature import Feature
from handlers.base.present import LiveCards

SERVICES_KEY = "hiwar"


@dataclass(frozen=True, slots=True)
class Services:
    settings: Settings
    access: Access
    survey: SurveyService
    publishing: Publishing
    rounds: Rounds
    reports: ReportService
    invitations: InvitationService
    cards: LiveCards
    features: tuple[Feature, ...]
    errors: ErrorTable
    """Every feature's error table, merged (handlers/base/errors.py: error_table)."""


def services(context: ContextTypes.DEFAULT_TYPE) -> Services:
    found = context.bot_data[SERVICES_KEY]
    assert isinstance(found, Services)
    return found
