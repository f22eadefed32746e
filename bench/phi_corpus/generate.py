"""Generate the synthetic research-interview PHI corpus (tune / held-out / test fixture).

Usage: python bench/phi_corpus/generate.py [--out DIR] [--check]

Every identifier is made up (``faker`` plus the small pools below); the gold spans come from
the generator itself (each slot knows its label), so no annotation step can drift. Genres:
clinician interviews, caregiver phone calls, nurse focus groups, lower-case speech-to-text
output, pharmacist calls and PHI-free hard negatives.

Honesty rules (see bench/README.md, "PHI"):
- ``tune`` uses the shared templates with the TUNE pools (faker locales en_US, es_MX, en_IN).
- ``heldout`` uses different name/place/facility pools (faker locales en_GB, pl_PL, de_DE,
  it_IT, fr_FR, nl_NL and other hand-written pools) and additionally the templates marked
  ``H`` below, which never appear in ``tune``. The detector was never tuned on it.
- ``fixture`` (tests/phi/data/gold_fixture.jsonl) is a small third draw from the TUNE pools and
  shared templates with its own seed, for the recall floor test in CI (it may be looked at while
  tuning, so it is not drawn from anything the held-out split depends on).
The committed JSONL files are the frozen reference; ``--check`` regenerates them in memory and
fails when they differ (faker upgrades can change the draws; pin or regenerate deliberately).
"""

from __future__ import annotations

import argparse
import json
import random
import re
import sys
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path

from faker import Faker

ROOT = Path(__file__).resolve().parents[2]
OUT_DIR = Path(__file__).resolve().parent
FIXTURE = ROOT / "tests/phi/data/gold_fixture.jsonl"

NAME, DATE, AGE, PHONE, ID, LOCATION, EMAIL = (
    "NAME", "DATE", "AGE", "PHONE", "ID", "LOCATION", "EMAIL",
)  # fmt: skip

# ----------------------------------------------------------------------------- pools


@dataclass
class Pools:
    locales: list[str]
    facility_words: list[str]
    facility_heads: list[str]
    real_towns: list[str]
    streets: list[str]
    vi_family: list[str]
    vi_middle: list[str]
    vi_given: list[str]
    mail_hosts: list[str]
    fakers: list[Faker] = field(default_factory=list)


TUNE = Pools(
    locales=["en_US", "en_US", "es_MX", "en_IN"],
    facility_words=[
        "Lakeside",
        "Riverside",
        "Cedar",
        "Maple",
        "Valley",
        "Summit",
        "Bayside",
        "Oakwood",
        "Highland",
        "Pioneer",
        "Meadowbrook",
        "Fairview",
        "Sunrise",
        "Brookside",
        "Hillcrest",
    ],
    facility_heads=[
        "Memorial",
        "Family Health",
        "Regional Medical Center",
        "Community Hospital",
        "Medical Group",
        "Clinic",
        "Rehab",
        "Health Center",
        "General",
    ],
    real_towns=["Ogden", "Dayton", "Bozeman", "Tupelo", "Moab", "Keene", "Ames", "Elko"],
    streets=["Birch Lane", "Elm Street", "Mill Road", "Oak Avenue", "Church Street", "Pine Court"],
    vi_family=["Nguyen", "Tran", "Pham"],
    vi_middle=["Thi", "Van"],
    vi_given=["Lan", "Hoa", "Tuan", "Minh"],
    mail_hosts=["gmail.com", "yahoo.com", "outlook.com"],
)
HELDOUT = Pools(
    locales=["en_GB", "pl_PL", "de_DE", "it_IT", "fr_FR", "nl_NL"],
    facility_words=[
        "Sycamore",
        "Bluewater",
        "Pinecrest",
        "Stonebridge",
        "Willowmere",
        "Harborside",
        "Northgate",
        "Silverlake",
        "Greystone",
        "Ashford",
        "Bramblewood",
        "Copperfield",
    ],
    facility_heads=[
        "Memorial",
        "Infirmary",
        "Health Partners",
        "Medical Pavilion",
        "Care Center",
        "Women's Center",
        "Hospital",
        "Family Practice",
        "Urgent Care",
        "Medical Center",
    ],
    real_towns=["Laramie", "Brattleboro", "Chillicothe", "Sedona", "Hood River", "Bemidji"],
    streets=["Walnut Drive", "Harbor Road", "Quarry Lane", "Bay Street", "Hawthorn Way"],
    vi_family=["Le", "Hoang", "Vu", "Dang"],
    vi_middle=["Thi", "Van", "Ngoc", "Duc"],
    vi_given=["Mai", "Thao", "Khanh", "Linh", "Quang"],
    mail_hosts=["hotmail.com", "icloud.com", "aol.com", "proton.me"],
)

DRUGS = [
    "metformin",
    "lisinopril",
    "Eliquis",
    "warfarin",
    "Humira",
    "Ozempic",
    "insulin glargine",
    "Lasix",
    "atorvastatin",
    "Keytruda",
    "amoxicillin",
    "Zofran",
    "heparin",
    "prednisone",
]
EPONYMS = [
    "Glasgow Coma Scale",
    "Apgar score",
    "Parkinson's",
    "Alzheimer's",
    "a Foley",
    "Cushing's",
    "Bell's palsy",
    "Crohn's",
    "the Braden scale",
    "Hodgkin lymphoma",
    "the Morse fall scale",
    "a Swan-Ganz",
    "Tourette's",
    "Graves' disease",
]
VENDORS = [
    "Epic",
    "Cerner",
    "Meditech",
    "athenahealth",
    "Pyxis",
    "Omnicell",
    "Vocera",
    "Zoom",
    "Teams",
    "Excel",
    "Allscripts",
    "MyChart",
]
UNITS = ["4 West", "the MICU", "5 North", "the step-down unit", "the ED", "L and D", "the PACU"]
NUMWORDS = "zero one two three four five six seven eight nine".split()
TENS = "twenty thirty forty fifty sixty seventy eighty ninety".split()
ORDINALS = [
    "first",
    "second",
    "third",
    "fourth",
    "fifth",
    "sixth",
    "seventh",
    "eighth",
    "ninth",
    "tenth",
    "eleventh",
    "twelfth",
    "thirteenth",
    "fourteenth",
    "fifteenth",
    "sixteenth",
    "seventeenth",
    "eighteenth",
    "nineteenth",
    "twentieth",
    "twenty-first",
    "twenty-second",
    "twenty-third",
    "twenty-fourth",
    "twenty-fifth",
    "twenty-sixth",
    "twenty-seventh",
    "twenty-eighth",
]
MONTHS = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
]
KIN = ["sister", "brother", "daughter", "son", "husband", "wife", "mom", "granddaughter",
       "niece", "nephew", "aunt", "cousin", "neighbor", "father-in-law"]  # fmt: skip

# ----------------------------------------------------------------------------- rendering


def _ascii(s: str) -> str:
    return unicodedata.normalize("NFKD", s).encode("ascii", "ignore").decode()


def _two_digit_words(n: int) -> str:
    if n < 10:
        return NUMWORDS[n]
    teens = "ten eleven twelve thirteen fourteen fifteen sixteen seventeen eighteen nineteen"
    if n < 20:
        return teens.split()[n - 10]
    t, u = divmod(n, 10)
    return TENS[t - 2] + (f"-{NUMWORDS[u]}" if u else "")


def _digits_spoken(rng: random.Random, digits: str) -> str:
    words = ["oh" if d == "0" and rng.random() < 0.7 else NUMWORDS[int(d)] for d in digits]
    return " ".join(words)


class Gen:
    """Slot renderers for one split: each returns (text, label or None)."""

    def __init__(self, pools: Pools, seed: int) -> None:
        self.p = pools
        self.rng = random.Random(seed)
        self.fakers = []
        for i, loc in enumerate(pools.locales):
            f = Faker(loc)
            f.seed_instance(seed * 31 + i)
            self.fakers.append(f)
        self.city_faker = Faker("en_US" if pools is TUNE else "en_GB")
        self.city_faker.seed_instance(seed + 7)

    # names -----------------------------------------------------------------------------
    def _faker(self) -> Faker:
        return self.rng.choice(self.fakers)

    def first(self) -> str:
        return self._faker().first_name()

    def last(self) -> str:
        return self._faker().last_name()

    def full(self) -> str:
        r = self.rng.random()
        if r < 0.12:
            p = self.p
            return (
                f"{self.rng.choice(p.vi_family)} {self.rng.choice(p.vi_middle)} "
                f"{self.rng.choice(p.vi_given)}"
            )
        f = self._faker()
        if r < 0.2:
            return f"{f.first_name()} {f.last_name()}-{f.last_name()}"
        return f"{f.first_name()} {f.last_name()}"

    # places ----------------------------------------------------------------------------
    def town(self) -> str:
        if self.rng.random() < 0.3:
            return self.rng.choice(self.p.real_towns)
        return self.city_faker.city()

    def facility(self) -> str:
        r = self.rng.random()
        word = self.rng.choice(self.p.facility_words)
        head = self.rng.choice(self.p.facility_heads)
        if r < 0.15:
            return f"St. {self.first()}'s"
        if r < 0.3:
            return f"{self.last()} {head}"
        if r < 0.4:
            return f"{self.town()} {head}"
        return f"{word} {head}"

    def street(self) -> str:
        return f"{self.rng.randint(2, 9899)} {self.rng.choice(self.p.streets)}"

    def zip(self) -> str:
        z = f"{self.rng.randint(1001, 99950):05d}"
        return z + (f"-{self.rng.randint(1, 9999):04d}" if self.rng.random() < 0.15 else "")

    # numbers ---------------------------------------------------------------------------
    def phone(self, spoken: bool = False) -> str:
        a, b, c = (
            f"{self.rng.randint(201, 989)}",
            f"{self.rng.randint(200, 999)}",
            f"{self.rng.randint(0, 9999):04d}",
        )
        if spoken or self.rng.random() < 0.35:
            sep = self.rng.choice([", ", " ", "... "])
            return sep.join(_digits_spoken(self.rng, g) for g in (a, b, c))
        return self.rng.choice([f"({a}) {b}-{c}", f"{a}-{b}-{c}", f"{a} {b} {c}", f"{a}.{b}.{c}"])

    def ssn(self) -> str:
        a, b, c = (
            f"{self.rng.randint(100, 899)}",
            f"{self.rng.randint(10, 99)}",
            f"{self.rng.randint(1000, 9999)}",
        )
        r = self.rng.random()
        if r < 0.4:
            return f"{a} {b} {c}"
        if r < 0.6:
            return ", ".join(_digits_spoken(self.rng, g) for g in (a, b, c))
        return f"{a}-{b}-{c}"

    def account(self) -> str:
        groups = [f"{self.rng.randint(1000, 9999)}" for _ in range(self.rng.choice([3, 4]))]
        if self.rng.random() < 0.2:
            return ", ".join(_digits_spoken(self.rng, g) for g in groups[:3])
        return " ".join(groups)

    def mrn(self) -> str:
        r = self.rng.random()
        if r < 0.5:
            return f"{self.rng.randint(100000, 99999999)}"
        if r < 0.75:
            letters = "".join(self.rng.choice("ABCDEFGHJKLMNPRSTUVWXYZ") for _ in range(3))
            return f"{letters}{self.rng.randint(10000, 999999)}"
        return " ".join(f"{self.rng.randint(100, 999)}" for _ in range(3))

    def email(self, spoken: bool = False) -> str:
        f = self._faker()
        user = _ascii(f"{f.first_name()}.{f.last_name()}").lower().replace(" ", "")
        host = self.rng.choice(self.p.mail_hosts)
        if spoken:
            return f"{user.replace('.', ' dot ')} at {host.replace('.', ' dot ')}"
        return f"{user}{self.rng.randint(1, 99)}@{host}"

    # dates and ages --------------------------------------------------------------------
    def date(self, spoken: bool = False) -> str:
        m = self.rng.randrange(12)
        d = self.rng.randint(1, 28)
        y = self.rng.randint(2015, 2025)
        month = MONTHS[m]
        spoken_forms = [
            f"{month} {ORDINALS[d - 1]}",
            f"the {ORDINALS[d - 1]} of {month}",
            f"{month} {d}",
            f"{month} {ORDINALS[d - 1]}, twenty {_two_digit_words(y - 2000)}",
            f"last {month} {d}",
        ]
        written = [
            f"{m + 1}/{d}/{y}",
            f"{month} {d}, {y}",
            f"{month[:3]} {d}",
            f"{m + 1}/{d}",
            f"{d} {month} {y}",
            f"{month} {d}th" if d > 3 else f"{month} {d}",
        ]
        if spoken or self.rng.random() < 0.5:
            return self.rng.choice(spoken_forms)
        return self.rng.choice(written)

    def dob(self) -> str:
        m, d, y = self.rng.randint(1, 12), self.rng.randint(1, 28), self.rng.randint(1928, 1990)
        r = self.rng.random()
        if r < 0.4:
            return f"{m}/{d}/{y}"
        if r < 0.7:
            return f"{MONTHS[m - 1]} {d}, {y}"
        return f"{MONTHS[m - 1]} {ORDINALS[d - 1]}, nineteen {_two_digit_words(y - 1900)}"

    def age90(self) -> str:
        n = self.rng.randint(90, 104)
        r = self.rng.random()
        if n >= 100:
            spoken = f"a hundred and {_two_digit_words(n - 100)}" if n > 100 else "a hundred"
            return self.rng.choice([spoken, f"{n}"])
        if r < 0.55:
            return _two_digit_words(n) if r < 0.4 else _two_digit_words(n).replace("-", " ")
        return f"{n}"

    # negatives (not PHI) -----------------------------------------------------------------
    def age_young(self) -> str:
        n = self.rng.randint(19, 88)
        return _two_digit_words(n) if self.rng.random() < 0.5 else f"{n}"

    def year(self) -> str:
        y = self.rng.randint(2008, 2025)
        return f"{y}" if self.rng.random() < 0.6 else f"twenty {_two_digit_words(y - 2000)}"


# Slots: {name:LABEL} is PHI with that label, plain {name} is filler text (not PHI).
SLOTS: dict[str, tuple[str, str | None]] = {
    "first": ("first", NAME), "last": ("last", NAME), "full": ("full", NAME),
    "first2": ("first", NAME), "town": ("town", LOCATION), "town2": ("town", LOCATION),
    "fac": ("facility", LOCATION), "street": ("street", LOCATION), "zip": ("zip", LOCATION),
    "phone": ("phone", PHONE), "ssn": ("ssn", ID), "acct": ("account", ID), "mrn": ("mrn", ID),
    "email": ("email", EMAIL), "date": ("date", DATE), "date2": ("date", DATE),
    "dob": ("dob", DATE), "age90": ("age90", AGE),
    "drug": ("DRUGS", None), "epo": ("EPONYMS", None), "vendor": ("VENDORS", None),
    "unit": ("UNITS", None), "kin": ("KIN", None), "young": ("age_young", None),
    "year": ("year", None),
}  # fmt: skip

# ----------------------------------------------------------------------------- templates
# One sentence each; "H|" marks templates used only in the held-out split and the fixture.

CLINICIAN = """
So I've been on {unit} about six years, mostly nights, and I started at {fac} in {town}.
The person who really trained me on {vendor} was {first}, she was the super-user back then.
If you want the real story you should ask {first}, he ran the pilot.
Honestly, check with {first}, he was on nights when it went live.
We had a patient, {full}, who came in {date} and the alert just never fired.
Dr. {last} was the attending that week and she was, uh, not thrilled.
I told {first} we'd lose the note if the session timed out, and we did.
My manager {full} signed off on the workflow change.
We transferred him to {fac} over in {town} because we didn't have a bed.
H|I'm at {fac} over in {town}, it's a small place, maybe forty beds.
H|So {first} and I - we basically rebuilt the order set on a weekend.
H|I remember because it was {date}, right before the upgrade to {vendor}.
H|The charge nurse, {first}, kept a paper list because nobody trusted the screen.
H|You can email me at {email} if you want the screenshots.
H|Her daughter called from {town} asking why the discharge papers said {drug}.
We had a ninety-something lady, I mean she was {age90:AGE}, and the fall score didn't even flag her.
The clinic is at {street}, {town} {zip}, right across from the pharmacy.
"""

CAREGIVER = """
This is {full}, I'm calling about my mom's appointment.
My {kin} {first} usually handles the portal, I don't really do computers.
She's {age90}, she'll be {age90:AGE} in {date:DATE}, and she still lives alone.
Her date of birth is {dob}.
You can reach me at {phone}, that's my cell.
Um, the best number is {phone}.
We live at {street}, {town} {zip}.
She's at {fac} now, on the third floor.
Her social is {ssn}.
My {kin} {first} drove up from {town} to help.
The account number on the bill is {acct}.
Her member ID is {mrn}, I think.
H|He's {age90} years old and he still does the crossword every morning.
H|I moved her in with us in {town}, it's just outside {town2}.
H|Dad turned {age90:AGE} on {date:DATE} and we had a little party.
H|Write this down, it's {phone}, and ask for {first}.
H|The bill came with account {acct} and I couldn't read any of it.
H|My {kin}, {full}, is the power of attorney.
H|She was at {fac} until {date:DATE}.
"""

FOCUS = """
{first:LABEL}: I think the biggest problem is the handoff at shift change.
{first:LABEL}: Yeah, I agree with {first2}, nobody reads the sticky notes.
{first:LABEL}: When I was at {fac} we had a huddle board, it worked better.
{first:LABEL}: Tell them about the Pyxis thing, {first2}.
{first:LABEL}: Mm-hm. {first2} and I both floated to {unit} that month.
{first:LABEL}: Sorry, go ahead - no, you go, {first2}.
{first:LABEL}: We had a guy last week, {age90:AGE}, sharp as a tack, and the form asked if he had dementia.
{first:LABEL}: The one in {town} is way busier than ours.
H|{first:LABEL}: Can I jump in? So {first2}'s unit does it differently.
H|{first:LABEL}: Right, right. I worked with {full} on the falls committee.
H|{first:LABEL}: I drive in from {town} every day, it's like forty minutes.
H|{first:LABEL}: {first2} was the one who found the bug, honestly.
"""

PHARMACY = """
Thank you for calling, this is {first} at the pharmacy, can I get the patient's date of birth?
Yes, it's {dob}.
And the phone number on file?
It's {phone}.
I see a prescription for {drug} from Dr. {last}, picked up {date}.
The Rx number is {mrn}.
Is this still at {street}?
Her insurance member ID is {mrn}, and the group is on the card.
H|Could you spell the last name? It's {full}.
H|I'm calling for my {kin} {full}, she's {age90:AGE} and can't come to the phone.
H|We'll transfer it to the location in {town} on {date}.
H|The card says policy {acct}.
"""

# Lower-case ASR lines (rendered lower-case; numbers spoken).
ASR = """
my name is {full} and i'm at {fac} in {town}
yeah so i work with {first} on the night shift
uh my {kin} {first} she set up the app for me
you can call me at {phone:SPOKEN}
the appointment was on {date:SPOKEN}
she's {age90} you know and she still drives
i live in {town} like near the high school
my email is {email:SPOKEN}
dr {last} told me to stop the {drug}
it's {street} in {town} {zip}
H|this is {full} calling from {fac}
H|so i talked to {first} and he said uh the form was wrong
H|my birthday is {dob}
H|we moved to {town} back in {year}
H|my number's {phone:SPOKEN}
H|i asked {first} about it last week
"""

NEGATIVE = """
We switched him from {drug} to {drug} and nobody updated the order set.
The Glasgow Coma Scale field is buried three screens down in {vendor}.
Honestly, the Apgar score defaults are wrong half the time.
She's {young}, so the protocol says we don't need the extra screening.
We went live on {vendor} back in {year}.
Last week the {vendor} downtime lasted four hours.
It's mostly Parkinson's patients on {unit}, so the fall risk is high.
I think about twelve nurses on {unit} use the scanner.
The patient had {epo} and the template didn't have a field for it.
We get maybe thirty admits a night, sometimes forty.
The dose was 500 milligrams twice a day, then we dropped it to 250.
Um, I've been a nurse for about twenty years.
Our team moved from {vendor} to {vendor} in {year}.
Blood pressure was like 140 over 90, sats 92 on room air.
So, you know, it's a lot of clicking.
The {unit} huddle is at seven thirty every morning.
H|A few months ago the {vendor} upgrade broke the flowsheets.
H|He's {young} and on {drug}, so we check his kidneys every three months.
H|The Braden scale and {epo} both live on the same tab.
H|We trialed {vendor} on {unit} for maybe six weeks.
H|She was maybe {young}, diabetic, on {drug}.
H|Every Tuesday we do chart audits, like ten charts each.
"""

FILLERS = ["um, ", "uh, ", "so, ", "yeah, ", "I mean, ", "you know, ", "like, ", "okay so ", ""]
LABELS = [("Interviewer", "Participant"), ("INT", "P07"), ("Q", "A"), ("Moderator", "R2")]
SHORT = ["Mm-hm.", "Okay.", "Right.", "Go on.", "Can you say more about that?", "Interesting."]


def _parse(block: str) -> tuple[list[str], list[str]]:
    shared, held = [], []
    for line in block.strip().splitlines():
        if line.startswith("H|"):
            held.append(line[2:])
        elif line.strip():
            shared.append(line)
    return shared, held


_SLOT_RE = re.compile(r"\{(\w+)(?::(\w+))?\}")


def render(gen: Gen, template: str, lower: bool = False) -> list[tuple[str, str | None]]:
    """Render one template into (text, label) pieces."""
    pieces: list[tuple[str, str | None]] = []
    pos = 0
    for m in _SLOT_RE.finditer(template):
        pieces.append((template[pos : m.start()], None))
        slot, mod = m.group(1), m.group(2)
        source, label = SLOTS[slot]
        spoken = mod == "SPOKEN" or lower
        if mod in {NAME, DATE, AGE, ID, LOCATION, PHONE, EMAIL}:
            label = mod
        if source.isupper():
            value = gen.rng.choice(globals()[source])
        elif source in {"phone", "email", "date"}:
            value = getattr(gen, source)(spoken=spoken)
        else:
            value = getattr(gen, source)()
        if slot == "age90" and label is None:
            # "She's {age90}": the number alone reveals an age over 89.
            label = AGE
        if lower:
            value = _ascii(value)
        pieces.append((value, label if mod != "LABEL" else NAME))
        pos = m.end()
    pieces.append((template[pos:], None))
    if lower:
        pieces = [(t.lower(), lab) for t, lab in pieces]
    return pieces


def _assemble(pieces: list[tuple[str, str | None]]) -> tuple[str, list[dict]]:
    text, spans, pos = [], [], 0
    for t, lab in pieces:
        if lab and t:
            spans.append({"start": pos, "end": pos + len(t), "label": lab, "text": t})
        text.append(t)
        pos += len(t)
    return "".join(text), spans


def transcript(gen: Gen, genre: str, heldout: bool) -> list[tuple[str, str | None]]:
    rng = gen.rng
    blocks = {
        "clinician": CLINICIAN, "caregiver": CAREGIVER, "focus_group": FOCUS,
        "pharmacy": PHARMACY, "asr": ASR, "negative": NEGATIVE,
    }  # fmt: skip
    shared, held = _parse(blocks[genre])
    neg_shared, neg_held = _parse(NEGATIVE)
    pool = shared + (held if heldout else [])
    negs = neg_shared + (neg_held if heldout else [])
    lower = genre == "asr"
    n = rng.randint(5, 9) if genre != "negative" else rng.randint(4, 7)
    a, b = rng.choice(LABELS) if not lower else ("speaker 1", "speaker 2")
    pieces: list[tuple[str, str | None]] = []
    for i in range(n):
        if genre == "negative" or (genre != "focus_group" and rng.random() < 0.3):
            sentence = rng.choice(negs)
        else:
            sentence = rng.choice(pool)
        filler = rng.choice(FILLERS)
        if genre == "focus_group" and "{first:LABEL}" in sentence:
            line = render(gen, sentence)
            head, rest = line[:2], line[2:]
            if filler and rest and rest[0][0].startswith(": "):
                said = rest[0][0][2:]
                if not said.startswith(("I ", "I'")):
                    said = said[:1].lower() + said[1:]
                rest[0] = (": " + filler + said, None)
            pieces += [*head, *rest, ("\n", None)]
            continue
        body = render(gen, sentence, lower=lower)
        if filler and body and body[0][1] is None and body[0][0][:1].isupper():
            first_text = body[0][0]
            keep = re.match(r"(?:I\b|I'|Dr\b|St\b|Mr|Mrs|Ms)", first_text)
            head = first_text if keep else first_text[0].lower() + first_text[1:]
            body[0] = (filler.capitalize() + head, None)
        elif lower and filler:
            body.insert(0, (filler.replace(",", "").lower(), None))
        if lower:
            body = [(t.replace(",", "").replace(".", "").replace("?", ""), lab) for t, lab in body]
        speaker = a if i % 2 == 0 else b
        if genre == "focus_group":
            speaker = rng.choice(["P1", "P2", "P3", "Moderator"])
        if i % 2 == 0 and genre in {"clinician", "negative"} and rng.random() < 0.4:
            pieces.append((f"{speaker}: {rng.choice(SHORT)}\n", None))
            speaker = b
        pieces += [(f"{speaker}: ", None), *body, ("\n", None)]
    return pieces


GENRES = ["clinician", "caregiver", "focus_group", "pharmacy", "asr", "negative"]


def build(split: str, n_per_genre: int, seed: int) -> list[dict]:
    heldout = split == "heldout"
    gen = Gen(HELDOUT if heldout else TUNE, seed)
    rows = []
    for genre in GENRES:
        for k in range(n_per_genre):
            text, spans = _assemble(transcript(gen, genre, heldout=heldout))
            rows.append(
                {
                    "id": f"{split}-{genre}-{k:03d}",
                    "genre": genre,
                    "text": text,
                    "hard_negative": not spans,
                    "spans": spans,
                }
            )
    return rows


SPLITS = {
    "tune": (OUT_DIR / "tune.jsonl", 25, 1201),
    "heldout": (OUT_DIR / "heldout.jsonl", 25, 4242),
    "fixture": (FIXTURE, 6, 777),
}


def _dump(rows: list[dict]) -> str:
    return "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--check", action="store_true", help="fail when files differ")
    parser.add_argument("--only", choices=sorted(SPLITS), action="append")
    args = parser.parse_args()
    status = 0
    for split, (path, n, seed) in SPLITS.items():
        if args.only and split not in args.only:
            continue
        data = _dump(build(split, n, seed))
        if args.check:
            same = path.is_file() and path.read_text(encoding="utf-8") == data
            print(f"{split}: {'unchanged' if same else 'DIFFERS'} ({path.name})")
            status |= not same
        else:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(data, encoding="utf-8")
            print(f"{split}: {data.count(chr(10))} transcripts, {len(data)} bytes -> {path}")
    return status


if __name__ == "__main__":
    sys.exit(main())
