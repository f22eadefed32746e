"""Who is calling: a person with one role, or a service account with scopes."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Literal


class Role(StrEnum):
    product_manager = "product_manager"
    engineer = "engineer"
    clinician = "clinician"
    exec = "exec"
    compliance_officer = "compliance_officer"
    admin = "admin"


SCOPES: tuple[str, ...] = (
    "products:read",
    "roadmap:read",
    "roadmap:write",
    "stories:read",
    "stories:write",
    "insights:read",
    "interviews:write",
)


@dataclass(frozen=True, slots=True)
class Principal:
    sub: str
    type: Literal["user", "service"]
    role: Role | None = None
    name: str | None = None
    client_id: str | None = None
    scopes: frozenset[str] = field(default_factory=frozenset)

    @property
    def is_service(self) -> bool:
        return self.type == "service"
