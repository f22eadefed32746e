"""Insights: findings drawn from interviews. Importing the package registers the erasure of
their quotes with an interview's purge, so app.interviews imports nothing of insights."""

from app.insights.repository import erase_quotes_of
from app.interviews.repository import PURGE_ERASERS

PURGE_ERASERS["insight.quote"] = erase_quotes_of
