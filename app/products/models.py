from __future__ import annotations

import uuid

from sqlalchemy import Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from app.db.base import Base, ResourceMixin

# IMDRF SaMD N12 table: situation -> significance -> category.
IMDRF_TABLE: dict[str, dict[str, str]] = {
    "critical": {"treat_or_diagnose": "IV", "drive_management": "III", "inform_management": "II"},
    "serious": {"treat_or_diagnose": "III", "drive_management": "II", "inform_management": "I"},
    "non_serious": {"treat_or_diagnose": "II", "drive_management": "I", "inform_management": "I"},
}


def imdrf_category(situation: str | None, significance: str | None) -> str | None:
    """IMDRF risk category, or None when either input is missing."""
    if situation is None or significance is None:
        return None
    return IMDRF_TABLE[situation][significance]


class Product(ResourceMixin, Base):
    __tablename__ = "product"

    key: Mapped[str] = mapped_column(String(10), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    lifecycle_stage: Mapped[str] = mapped_column(String(20), default="ideation")
    intended_use: Mapped[str] = mapped_column(Text, default="")
    samd_significance: Mapped[str | None] = mapped_column(String(32))
    samd_situation: Mapped[str | None] = mapped_column(String(32))
    fda_pathway: Mapped[str] = mapped_column(String(20), default="undetermined")
    iec62304_class: Mapped[str | None] = mapped_column(String(1))
    handles_phi: Mapped[bool] = mapped_column(default=False)
    model_type: Mapped[str | None] = mapped_column(String(100))
    performance_metrics: Mapped[dict] = mapped_column(default=dict)
    created_by: Mapped[str | None] = mapped_column(String(255))
    # Jira sync (SPEC §9, app/integrations/jira): the linked project and its status names.
    jira_project_key: Mapped[str | None] = mapped_column(String(32))
    jira_status_map: Mapped[dict] = mapped_column(default=dict)

    __table_args__ = (
        Index(None, "jira_project_key", unique=True),
        Index(None, "name", "id"),
        Index(None, "lifecycle_stage"),
        Index(None, "created_at", "id"),
        Index(None, "updated_at", "id"),
    )

    @property
    def imdrf_category(self) -> str | None:
        return imdrf_category(self.samd_situation, self.samd_significance)


class StoryCounter(Base):
    """A product's last story number: only ever incremented, so story keys are never reused.
    A table of its own, with no foreign key, so that a number can be taken in a short
    transaction of its own (`ProductRepository.next_story_number`) while the story's
    transaction goes on, even for a product that transaction has just created."""

    __tablename__ = "story_counter"

    product_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    last_number: Mapped[int]
