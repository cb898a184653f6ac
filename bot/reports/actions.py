"""What the audit log records of the reports feature (its labels name entries in /audit)."""

from __future__ import annotations

from bot.core.access import Action
from bot.core.i18n import N_

SUMMARY = Action("summary", N_("summary"))
FILTERS = Action("filters", N_("list of groups"))
CHART = Action("chart", N_("charts"))
CHANGE = Action("change", N_("change between rounds"))
COMMENTS = Action("comments", N_("free-text answers"))
EXPORT = Action("export", N_("export"))
TABLES = Action("tables", N_("tables"))
GRANT = Action("grant", N_("invitation link created"))
CAMPAIGN_LINK = Action("entry_link", N_("campaign link created"))
"""Its key is still the one of the survey invitation links campaign links replaced."""
CLOSE_LINK = Action("close_link", N_("campaign link closed"))
CAMPAIGNS = Action("campaigns", N_("list of campaign links"))
JOINED = Action("joined", N_("became a coordinator"))
CONFIRM = Action("confirm", N_("coordinator confirmed"))
REFUSE = Action("refuse", N_("invitation link refused"))
CANCEL_GRANT = Action("cancel_grant", N_("invitation link cancelled"))
REVOKE = Action("revoke", N_("coordinator removed"))
ROLES = Action("roles", N_("list of roles"))
AUDIT = Action("audit", N_("audit log"))
HELP = Action("help", N_("list of commands"))
