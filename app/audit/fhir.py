"""Audit events as FHIR R4 AuditEvent resources (one JSON object per NDJSON line).

Mapping (FHIR R4 AuditEvent, validated in tests with fhir.resources' R4B models):
- type: audit-event-type `rest` (RESTful operation); DICOM 110114 "User Authentication"
  for login/auth_failed.
- subtype: our action (create, read, search, export, purge, …) in the Rounds code system.
- action: C/R/U/D/E (search, login and denials are E "execute").
- outcome: 0 success, 4 minor failure (denied: 401/403/404), 8 serious failure (error).
- agent: the requestor (actor_sub, or the OAuth client of a service account), its role,
  and its network address (type 2 = IP address).
- source: observer "Rounds", type 4 (application server).
- entity: one per resource id (what = identifier in the Rounds resource-type system, type
  2 = system object) carrying `phi_accessed` and the names of changed fields, plus one for
  the HTTP request carrying the request id, method, path, status and GraphQL operation.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC
from typing import Any

import orjson

from app.audit.chain import plain

SYSTEM = "https://rounds.dev/fhir"
AUDIT_EVENT_TYPE = "http://terminology.hl7.org/CodeSystem/audit-event-type"
DICOM = "http://dicom.nema.org/resources/ontology/DCM"
ENTITY_TYPE = "http://terminology.hl7.org/CodeSystem/audit-entity-type"
SOURCE_TYPE = "http://terminology.hl7.org/CodeSystem/security-source-type"
ROLE_CLASS = "http://terminology.hl7.org/CodeSystem/extra-security-role-type"

_CRUDE = {
    "create": "C",
    "read": "R",
    "export": "R",
    "update": "U",
    "approve": "U",
    "review": "U",
    "delete": "D",
    "purge": "D",
    "import": "C",  # creates and updates; C as the dominant effect
}
_OUTCOME = {"success": "0", "denied": "4", "error": "8"}


def _who(m: Mapping[str, Any]) -> dict[str, Any]:
    if m["actor_type"] == "service" and m["client_id"]:
        return {
            "identifier": {"system": f"{SYSTEM}/oauth-client", "value": m["client_id"]},
            "display": m["actor_sub"] or m["client_id"],
        }
    if m["actor_sub"]:
        return {"identifier": {"system": f"{SYSTEM}/subject", "value": m["actor_sub"]}}
    return {"display": "anonymous"}


def to_fhir(m: Mapping[str, Any]) -> dict[str, Any]:
    """One audit event row (with its chain seq/hash) as a FHIR R4 AuditEvent."""
    action = m["action"]
    auth = action in ("login", "auth_failed")
    agent: dict[str, Any] = {"who": _who(m), "requestor": True}
    if m["actor_role"]:
        agent["role"] = [{"coding": [{"system": f"{SYSTEM}/role", "code": m["actor_role"]}]}]
    if m["actor_type"] == "service":
        agent["type"] = {"coding": [{"system": ROLE_CLASS, "code": "dataprocessor"}]}
    if m["source_ip"]:
        agent["network"] = {"address": m["source_ip"], "type": "2"}

    entities: list[dict[str, Any]] = []
    details = [{"type": "phi_accessed", "valueString": "true" if m["phi_accessed"] else "false"}]
    if m["changed_fields"]:
        details.append({"type": "changed_fields", "valueString": ",".join(m["changed_fields"])})
    rtype = m["resource_type"] or "unknown"
    for rid in m["resource_ids"] or ():
        entities.append(
            {
                "what": {"identifier": {"system": f"{SYSTEM}/{rtype}", "value": rid}},
                "type": {"system": f"{SYSTEM}/resource-type", "code": rtype},
                "detail": details,
            }
        )
    request_detail = [
        {"type": "request_id", "valueString": m["request_id"]},
        {"type": "http_method", "valueString": m["http_method"]},
        {"type": "path", "valueString": m["path"]},
        {"type": "status_code", "valueString": str(m["status_code"])},
    ]
    if m["graphql_operation"]:
        request_detail.append({"type": "graphql_operation", "valueString": m["graphql_operation"]})
    if m["user_agent"]:
        request_detail.append({"type": "user_agent", "valueString": m["user_agent"]})
    if m["product_id"]:
        request_detail.append({"type": "product_id", "valueString": m["product_id"]})
    if m.get("seq") is not None:
        request_detail += [
            {"type": "chain_seq", "valueString": str(m["seq"])},
            {"type": "chain_hash", "valueString": m["hash"]},
        ]
    entities.append(
        {
            "what": {"identifier": {"system": f"{SYSTEM}/request-id", "value": m["request_id"]}},
            "type": {"system": ENTITY_TYPE, "code": "4", "display": "Other"},
            "name": f"{m['http_method']} {m['path']}"[:500],
            "detail": request_detail,
        }
    )

    if auth:
        event_type = {"system": DICOM, "code": "110114", "display": "User Authentication"}
    else:
        event_type = {"system": AUDIT_EVENT_TYPE, "code": "rest", "display": "RESTful Operation"}
    return {
        "resourceType": "AuditEvent",
        "id": str(m["id"]),
        "type": event_type,
        "subtype": [{"system": f"{SYSTEM}/audit-action", "code": action}],
        "action": _CRUDE.get(action, "E"),
        "recorded": m["occurred_at"].astimezone(UTC).isoformat().replace("+00:00", "Z"),
        "outcome": _OUTCOME.get(m["outcome"], "8"),
        "outcomeDesc": f"HTTP {m['status_code']}",
        "agent": [agent],
        "source": {
            "site": "Rounds API",
            "observer": {"display": "Rounds"},
            "type": [{"system": SOURCE_TYPE, "code": "4", "display": "Application Server"}],
        },
        "entity": entities,
    }


def ndjson_line(m: Mapping[Any, Any]) -> bytes:
    return orjson.dumps(to_fhir(m), default=plain) + b"\n"
