"""Small surveys built in code, for domain tests that should not depend on the shipped file."""

from __future__ import annotations

from datetime import datetime

from bot.survey.model import (
    Condition,
    Option,
    Question,
    QuestionType,
    ReportRole,
    Side,
    Survey,
    Text,
)


def t(en: str, ar: str | None = None) -> Text:
    return Text(ar=ar or f"نص {en}", en=en)


def opt(option_id: str, side: Side | None = None, opt_in: bool = False) -> Option:
    return Option(option_id, t(option_id.replace("_", " ").title()), side=side, opt_in=opt_in)


def mini_survey() -> Survey:
    """Level → (police follow-up) → barrier scale → (channel follow-up) → priorities → years
    → comment → invitations."""
    return Survey(
        id="mini",
        version=1,
        title=t("Mini survey"),
        introduction=t("A short test survey."),
        questions=(
            Question(
                "level",
                QuestionType.SINGLE_CHOICE,
                t("Your level?"),
                options=(opt("local", Side.LOCAL), opt("national", Side.NATIONAL), opt("police")),
                report=ReportRole.LEVEL,
            ),
            Question(
                "police_trust",
                QuestionType.AGREEMENT_SCALE,
                t("Police trust?"),
                show_if=Condition("level", ("police",)),
            ),
            Question(
                "no_trust",
                QuestionType.AGREEMENT_SCALE,
                t("No mutual trust."),
                short_label=t("No trust"),
                report=ReportRole.BARRIER,
            ),
            Question(
                "channel",
                QuestionType.FREE_TEXT,
                t("Which channel is missing?"),
                optional=True,
                max_length=20,
                show_if=Condition("no_trust", ("4", "5")),
            ),
            Question(
                "priorities",
                QuestionType.MULTIPLE_CHOICE,
                t("Priorities?"),
                options=(opt("inclusion"), opt("realism"), opt("analysis"), opt("funding")),
                max_choices=2,
                report=ReportRole.PRIORITY,
            ),
            Question(
                "years", QuestionType.NUMBER, t("Years?"), min_value=0, max_value=60, optional=True
            ),
            Question(
                "step",
                QuestionType.FREE_TEXT,
                t("One step?"),
                max_length=200,
                optional=True,
                report=ReportRole.COMMENT,
            ),
            Question(
                "invite",
                QuestionType.SINGLE_CHOICE,
                t("Invitations?"),
                options=(opt("yes", opt_in=True), opt("no")),
                report=ReportRole.INVITATIONS,
            ),
        ),
    )


class Clock:
    """A clock the test moves by hand (`clock.now += timedelta(...)`)."""

    def __init__(self, start: datetime) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now
