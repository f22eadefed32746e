"""`python -m app seed`: a believable demo portfolio, written through the service layer so
the demo data is validated, PHI-scanned and encrypted exactly like API writes."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import func, select
from tqdm import tqdm

from app.audit.record import AuditRecord
from app.audit.writer import append_event, operator_record
from app.auth.principal import Principal, Role
from app.config import Settings
from app.core.context import Ctx
from app.db.session import create_engine, create_sessionmaker
from app.insights import service as insights
from app.insights.schemas import InsightCreate
from app.interviews import service as interviews
from app.interviews.schemas import InterviewCreate
from app.members import service as members
from app.products import service as products
from app.products.models import Product
from app.products.schemas import ProductCreate, ProductUpdate
from app.roadmap import service as roadmap
from app.roadmap.schemas import RoadmapItemApprovalInput, RoadmapItemCreate, RoadmapItemUpdate
from app.stories import service as stories
from app.stories.schemas import ClinicalReviewInput, StoryCreate, StoryUpdate

PM = Principal(sub="demo-pm", type="user", role=Role.product_manager, name="Dana Okafor")
EXEC = Principal(sub="demo-exec", type="user", role=Role.exec, name="Morgan Reyes")
CLIN = Principal(sub="demo-clinician", type="user", role=Role.clinician, name="Dr. Sam Whitfield")
ENG = Principal(sub="demo-engineer", type="user", role=Role.engineer, name="Lee Nakamura")
ADMIN = Principal(sub="demo-admin", type="user", role=Role.admin, name="Avery Admin")


@dataclass(frozen=True)
class ProductSpec:
    body: dict
    themes: tuple[str, ...]
    items: tuple[str, ...]
    epics: tuple[str, ...]
    personas: tuple[str, ...]


PRODUCTS = (
    ProductSpec(
        body={
            "key": "SEPSIS",
            "name": "SepsisWatch early-warning model",
            "description": "Continuous sepsis risk scoring from vitals, labs and nursing notes.",
            "lifecycle_stage": "validation",
            "intended_use": "Alert inpatient care teams to adults at elevated risk of sepsis "
            "so that a clinician can evaluate them sooner.",
            "samd_significance": "drive_management",
            "samd_situation": "critical",
            "fda_pathway": "de_novo",
            "iec62304_class": "C",
            "handles_phi": True,
            "model_type": "gradient-boosted trees",
            "performance_metrics": {"auroc": 0.87, "sensitivity": 0.82, "ppv": 0.31},
        },
        themes=("alert fatigue", "EHR integration", "model monitoring", "regulatory"),
        items=(
            "Silence repeat alerts within 4 hours",
            "Epic BPA integration for risk score",
            "Drift dashboard for lactate ordering patterns",
            "Subgroup performance report by race and sex",
            "Predetermined change control plan draft",
            "Nurse-facing explanation of top contributing factors",
            "Rapid response team paging workflow",
            "Site onboarding playbook",
            "Retrospective silent-mode validation at second site",
            "FHIR Observation ingestion for vitals",
            "Alert acknowledgement analytics",
            "Post-market surveillance reporting",
        ),
        epics=("alert", "score explanation", "integration", "monitoring", "validation"),
        personas=("ICU nurse", "hospitalist", "rapid response nurse", "quality officer"),
    ),
    ProductSpec(
        body={
            "key": "RADTRI",
            "name": "Head CT hemorrhage triage",
            "description": "Flags suspected intracranial hemorrhage on non-contrast head CT "
            "and reprioritizes the radiology worklist.",
            "lifecycle_stage": "launched",
            "intended_use": "Worklist prioritization of non-contrast head CT with suspected "
            "intracranial hemorrhage for review by a radiologist.",
            "samd_significance": "drive_management",
            "samd_situation": "serious",
            "fda_pathway": "510k",
            "iec62304_class": "B",
            "handles_phi": True,
            "model_type": "3D convolutional neural network",
            "performance_metrics": {"auroc": 0.95, "sensitivity": 0.93, "specificity": 0.92},
        },
        themes=("worklist", "PACS integration", "performance", "post-market"),
        items=(
            "Worklist badge for suspected hemorrhage",
            "DICOM SR output for findings",
            "Turnaround-time dashboard",
            "Motion artifact rejection",
            "Pediatric exclusion check",
            "Second-read discrepancy tracking",
            "PACS vendor certification",
            "Mobile notification for neuroradiology on call",
            "Label drift monitoring",
            "Complaint handling workflow",
        ),
        epics=("worklist", "notification", "PACS", "quality"),
        personas=("neuroradiologist", "ED physician", "PACS administrator"),
    ),
    ProductSpec(
        body={
            "key": "DISCH",
            "name": "Discharge summary assistant",
            "description": "LLM assistant that drafts discharge summaries from the chart for "
            "physician review and signature.",
            "lifecycle_stage": "development",
            "intended_use": "Draft discharge summary text for a physician to edit and sign; "
            "not used for diagnosis or treatment decisions.",
            "samd_significance": "inform_management",
            "samd_situation": "non_serious",
            "fda_pathway": "not_a_device",
            "handles_phi": True,
            "model_type": "LLM (retrieval-augmented generation)",
            "performance_metrics": {"factual_consistency": 0.96, "hallucination_rate": 0.012},
        },
        themes=("drafting", "safety", "workflow", "evaluation"),
        items=(
            "Cite chart source for every medication change",
            "Hallucination red-team evaluation set",
            "Patient-friendly after-visit summary",
            "Inline edit tracking for physician changes",
            "Pending results section",
            "Spanish translation of patient instructions",
            "Template per service line",
            "Latency under 20 seconds for draft",
        ),
        epics=("draft", "citation", "evaluation", "editing"),
        personas=("hospitalist", "resident physician", "case manager"),
    ),
)

STORY_VERBS = (
    "see",
    "filter",
    "acknowledge",
    "export",
    "configure",
    "review",
    "compare",
    "audit",
    "snooze",
    "escalate",
    "annotate",
    "search",
)
LABELS = ("frontend", "backend", "ml", "integration", "clinical-safety", "compliance", "ux")

INTERVIEWS = (
    (
        "Night-shift ICU nurse on alert burden",
        "nurse",
        "Maria Gonzalez",
        "555-0142",
        "I get paged by the sepsis alert six times a shift. Maria Gonzalez here, you can reach me "
        "at 555-0142 or maria.gonzalez@example.org. Last March 14 we had a patient in bed 12 whose "
        "lactate was climbing and the alert fired after the rapid response team was already there. "
        "What would help is seeing why the score went up, not only that it did.",
    ),
    (
        "Hospitalist on trust in risk scores",
        "physician",
        "Dr. Alan Brooks",
        "alan.brooks@example.org",
        "I trust a score when it tells me the vitals trend that drove it. The patient I saw on "
        "02/03/2026 was 67 years old with pneumonia and the score was high for hours before anyone "
        "looked. Call me at (555) 010-7788 if you want the chart details.",
    ),
    (
        "Neuroradiologist on worklist flags",
        "physician",
        "Dr. Priya Raman",
        "555-0199",
        "When the hemorrhage flag is on, I open that study first. False positives from motion are "
        "the main annoyance. Dr. Priya Raman, St. Brigid Medical Center, extension 555-0199.",
    ),
    (
        "ED physician on turnaround",
        "physician",
        "Jorge Alvarez",
        "jorge.alvarez@example.org",
        "Our door-to-read time matters for thrombolysis decisions. Jorge Alvarez, reachable at "
        "jorge.alvarez@example.org. On April 2 we had a 92-year-old with a subdural bleed read in "
        "under ten minutes thanks to the flag.",
    ),
    (
        "Case manager on discharge paperwork",
        "administrator",
        "Linda Chen",
        "555-0123",
        "Half my afternoon is chasing discharge summaries. Linda Chen, 4412 Harbor View Road, "
        "Springfield. If the draft listed pending results and follow-up appointments it would save "
        "me calls. MRN 00482913 was a typical case last week.",
    ),
    (
        "Patient on understanding discharge instructions",
        "patient",
        "Robert Miller",
        "555-0177",
        "I went home with three new medications and no idea which replaced the old ones. Robert "
        "Miller, born 07/22/1958, phone 555-0177. Plain language and Spanish for my wife would "
        "help.",
    ),
)
INSIGHTS = (
    (
        "Alerts without explanation are ignored",
        "seeing why the score went up, not only that it did",
        4,
    ),
    ("Repeat alerts erode trust", "paged by the sepsis alert six times a shift", 5),
    ("Trend context drives trust", "trust a score when it tells me the vitals trend", 4),
    (
        "Motion artifacts cause false positives",
        "False positives from motion are the main annoyance",
        3,
    ),
    ("Flag shortens time to read", "read in under ten minutes thanks to the flag", 4),
    ("Pending results are missed", "listed pending results and follow-up appointments", 4),
    ("Medication changes confuse patients", "no idea which replaced the old ones", 5),
)


def _ctx(session, principal: Principal, settings: Settings, record: AuditRecord) -> Ctx:
    return Ctx(session=session, principal=principal, audit=record, settings=settings)


async def _seed_product(session, settings, spec: ProductSpec, scale: int, rng, record, bar):
    pm, ex, clin = (_ctx(session, p, settings, record) for p in (PM, EXEC, CLIN))
    product = await products.create_product(pm, ProductCreate(**spec.body))
    for member in (CLIN.sub, ENG.sub):
        await members.add_member(pm, product.id, member)
    items = []
    for n, title in enumerate(spec.items * scale):
        item = await roadmap.create_roadmap_item(
            pm,
            RoadmapItemCreate(
                product_id=product.id,
                title=title if n < len(spec.items) else f"{title} ({n // len(spec.items) + 1})",
                description=f"{title}. Motivated by clinician research and post-market data.",
                theme=rng.choice(spec.themes),
                horizon=("now", "next", "later")[n % 3],
                target_quarter=f"2027-Q{n % 4 + 1}" if n % 5 else None,
                status="planned" if n % 3 == 0 else "proposed",
                reach=rng.choice((40, 120, 300, 800, 2500)),
                impact=rng.choice((0.25, 0.5, 1.0, 2.0, 3.0)),
                confidence=rng.choice((0.5, 0.8, 1.0)),
                effort=rng.choice((0.5, 1.0, 2.0, 3.0, 5.0)),
                owner_sub=PM.sub,
            ),
        )
        if n % 3 == 0:
            await roadmap.approve_roadmap_item(
                ex, item.id, RoadmapItemApprovalInput(comment="Fits the regulatory plan.")
            )
            if n % 2 == 0:
                await roadmap.update_roadmap_item(
                    pm, item.id, RoadmapItemUpdate(status="in_progress")
                )
            if n == 0:
                await roadmap.update_roadmap_item(pm, item.id, RoadmapItemUpdate(status="shipped"))
            if n == 3:
                # Re-estimated after approval: the approval goes stale (demo of the gate).
                await roadmap.update_roadmap_item(
                    pm, item.id, RoadmapItemUpdate(effort=(item.effort or 1.0) * 2)
                )
        items.append(item)
        bar.update(1)
    story_ids = []
    for n in range(55 * scale):
        parent = items[n % len(items)] if n % 4 else None
        persona = rng.choice(spec.personas)
        verb = rng.choice(STORY_VERBS)
        epic = rng.choice(spec.epics)
        needs_review = n % 6 == 0
        story = await stories.create_story(
            pm,
            StoryCreate(
                product_id=product.id,
                roadmap_item_id=parent.id if parent else None,
                title=f"{persona.capitalize()} can {verb} the {epic}",
                persona=persona,
                as_a=f"a {persona}",
                i_want=f"to {verb} the {epic} from my usual workflow",
                so_that="I can act on it without leaving the patient's chart",
                description=f"Part of '{parent.title if parent else 'backlog grooming'}'.",
                acceptance_criteria=[
                    {
                        "given": f"a {persona} viewing the {epic}",
                        "when": f"they {verb} it",
                        "then": "the change is visible within 2 seconds",
                        "met": n % 5 == 0,
                    },
                    {
                        "given": "the user lacks permission",
                        "when": f"they try to {verb} it",
                        "then": "the action is refused and logged",
                        "met": False,
                    },
                ],
                story_points=rng.choice((1, 2, 3, 5, 8, 13)),
                sprint=f"2026.{n % 6 + 18}" if n % 3 else None,
                labels=rng.sample(LABELS, 2),
                clinical_review_required=needs_review,
                assignee_sub=(ENG.sub, CLIN.sub, None)[n % 3],
            ),
        )
        story_ids.append(story.id)
        steps = ("ready", "in_progress", "in_review", "done")[: n % 5]
        if needs_review and "done" in steps:
            await stories.review_story(clin, story.id, ClinicalReviewInput(status="approved"))
        for status in steps:
            await stories.update_story(pm, story.id, StoryUpdate(status=status))
        if needs_review and steps and steps[-1] == "in_review":
            # Signed off, then the criteria were reworded: the review resets to pending.
            await stories.review_story(
                clin, story.id, ClinicalReviewInput(status="approved", comment="Safe as written.")
            )
            await stories.update_story(
                pm, story.id, StoryUpdate(description=f"{story.description} Reworded after review.")
            )
        bar.update(1)
    await _seed_comments(session, settings, record, story_ids[:6], items[:2])
    return product, items, story_ids


async def _seed_comments(session, settings, record, story_ids, items) -> None:
    """A short discussion on a few stories and items (with a mention), issue #16."""
    from app.comments import service as comments
    from app.comments.schemas import CommentInput

    eng, pm = (_ctx(session, p, settings, record) for p in (ENG, PM))
    for n, story_id in enumerate(story_ids):
        await comments.create_comment(
            eng,
            "story",
            story_id,
            CommentInput(body=f"@{PM.sub} the alert threshold here needs a decision ({n + 1})."),
        )
        await comments.create_comment(
            pm, "story", story_id, CommentInput(body="Agreed; keep the current threshold.")
        )
    for item in items:
        await comments.create_comment(
            pm, "roadmap_item", item.id, CommentInput(body="Owner check-in: on track.")
        )


async def _seed_research(session, settings, product, items, story_ids, rng, record, bar, offset):
    pm = _ctx(session, PM, settings, record)
    for k in range(4):
        title, persona, name, contact, transcript = INTERVIEWS[(offset + k) % len(INTERVIEWS)]
        interview = await interviews.create_interview(
            pm,
            InterviewCreate(
                product_id=product.id,
                title=title,
                conducted_on=date(2026, 9, 1) + timedelta(days=7 * k + offset),
                interviewer_sub=CLIN.sub if k % 2 else PM.sub,
                participant_persona=persona,
                participant_name=f"{name}",
                participant_contact=contact,
                site="Demo Teaching Hospital",
                consent_status="obtained",
                transcript=transcript,
                summary=f"{title}. Fictional demo interview; all identifiers are invented.",
                tags=["demo", persona],
            ),
        )
        for j in range(3):
            ititle, quote, severity = INSIGHTS[(offset + k + j) % len(INSIGHTS)]
            await insights.create_insight(
                pm,
                InsightCreate(
                    interview_id=interview.id,
                    title=ititle,
                    quote=f'{name.split()[-1]} said: "{quote}"',
                    persona=persona,
                    severity=severity,
                    tags=["demo"],
                    story_ids=rng.sample(story_ids, 2),
                    roadmap_item_ids=[rng.choice(items).id],
                ),
            )
        bar.update(1)


async def _seed_integrations(session, settings: Settings, record: AuditRecord) -> None:
    """SEPSIS follows Jira project SEPS; Slack user U0DEMOPM of workspace T0DEMO is demo-pm
    and U0DEMOEXEC is demo-exec (docs/integrations.md shows signed sample requests)."""
    from app.integrations.slack import service as slack
    from app.integrations.slack.schemas import SlackLinkCreate
    from app.products.repository import ProductRepository

    pm, admin = _ctx(session, PM, settings, record), _ctx(session, ADMIN, settings, record)
    sepsis = await ProductRepository(session).by_key("SEPSIS")
    if sepsis is not None:
        await products.update_product(pm, sepsis.id, ProductUpdate(jira_project_key="SEPS"))
    for user_id, who in (("U0DEMOPM", PM), ("U0DEMOEXEC", EXEC)):
        link = SlackLinkCreate(team_id="T0DEMO", user_id=user_id, subject=who.sub, role=who.role)
        await slack.create_link(admin, link)


async def seed(settings: Settings, *, if_empty: bool = False, scale: int = 1) -> bool:
    """Load the demo portfolio; with if_empty, do nothing when products exist."""
    engine = create_engine(settings)
    maker = create_sessionmaker(engine)
    rng = random.Random(20261124)
    try:
        async with maker() as session:
            if if_empty and await session.scalar(select(func.count()).select_from(Product)):
                return False
            record = operator_record("seed")
            total = sum(len(s.items) * scale + 55 * scale + 4 for s in PRODUCTS)
            with tqdm(total=total, desc="seeding demo portfolio", unit="rec") as bar:
                for offset, spec in enumerate(PRODUCTS):
                    product, items, story_ids = await _seed_product(
                        session, settings, spec, scale, rng, record, bar
                    )
                    await _seed_research(
                        session, settings, product, items, story_ids, rng, record, bar, offset * 2
                    )
            await _seed_integrations(session, settings, record)
            record.action = "create"
            await append_event(session, record, 200)
            await session.commit()
        return True
    finally:
        await engine.dispose()
