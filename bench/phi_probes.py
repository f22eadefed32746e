"""Probes of the PHI detector beside the corpus (`python bench/phi_probes.py`; needs `faker`).

Two checks in sentence frames written for this script, not taken from any evaluation set:

- **hard negatives by kind**: each frame holds one brand drug, health-IT/device vendor or
  eponym (the kinds issue #12 names), or an age under 90, a year, a relative time or a
  clinical number; a sentence counts as over-redacted when its output changes at all;
- **names in context**: 25 faker names of each of 40 locales (Latin, Cyrillic, Greek, Arabic,
  Hebrew, Devanagari, Thai, CJK, Hangul) in 12 personal frames, each inside a short
  transcript; a name counts as found when every character of it is redacted.

These are look sets: the session that wrote them fixed what they showed (bench/README.md,
"Session 10"), so their figures say what is covered now, not what a new set would score.
"""

from __future__ import annotations

import sys
from collections import Counter, defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from app.phi.detector import detect  # noqa: E402

DRUGS = """
Lipitor Crestor Zocor Plavix Brilinta Eliquis Xarelto Pradaxa Coumadin Lovenox Januvia
Jardiance Farxiga Invokana Trulicity Ozempic Wegovy Mounjaro Victoza Lantus Levemir Tresiba
Toujeo Humalog Novolog Basaglar Synthroid Levoxyl Prilosec Nexium Protonix Pepcid Zantac Zofran
Reglan Compazine Phenergan Ativan Xanax Valium Klonopin Ambien Lunesta Restoril Zoloft Prozac
Paxil Celexa Lexapro Effexor Cymbalta Wellbutrin Remeron Trazodone Abilify Seroquel Zyprexa
Risperdal Haldol Geodon Latuda Lamictal Keppra Depakote Tegretol Dilantin Topamax Neurontin
Lyrica Norco Percocet Vicodin Dilaudid Oxycontin Tramadol Toradol Motrin Advil Aleve Tylenol
Celebrex Mobic Flexeril Robaxin Zanaflex Medrol Decadron Prednisone Solumedrol Lasix Bumex
Aldactone Coreg Lopressor Toprol Norvasc Cardizem Lisinopril Losartan Entresto Digoxin
Amiodarone Multaq Keflex Augmentin Zithromax Levaquin Cipro Bactrim Flagyl Vancomycin Zosyn
Rocephin Diflucan Valtrex Tamiflu Paxlovid Humira Enbrel Remicade Stelara Dupixent Keytruda
Opdivo Herceptin Avastin Rituxan Revlimid Gleevec Tagrisso Ibrance Xtandi Lupron Zometa Prolia
Fosamax Boniva Flomax Proscar Cialis Viagra Detrol Myrbetriq Singulair Advair Symbicort Spiriva
Breo Trelegy Albuterol Proair Ventolin Flonase Claritin Zyrtec Allegra Benadryl Narcan
Suboxone Vivitrol Chantix Adderall Ritalin Concerta Vyvanse Strattera Aricept Namenda Sinemet
Requip Mirapex
""".split()
VENDORS = """
Epic Cerner Meditech Allscripts Athenahealth NextGen eClinicalWorks Greenway Veradigm Oracle
Pyxis Omnicell Vocera Spok TigerText Imprivata Nuance Dragon Philips Siemens Medtronic Abbott
Baxter Stryker Zimmer Hologic Olympus Masimo Dexcom Tandem Insulet Omnipod Medline Cardinal
McKesson Hillrom Welch Allyn GE Alaris BD Becton Smiths Fisher Paykel ResMed Respironics Drager
Maquet Getinge Teleflex Cook Boston Scientific Intuitive Edwards Abiomed Natus Nihon Kohden
Mindray Lumify Butterfly Doximity UpToDate Lexicomp Micromedex Qualtrics REDCap Zoom Teams
Webex Slack Salesforce Workday Kronos Tableau
""".split()
EPONYMS = """
Parkinson's Alzheimer's Crohn's Hashimoto's Graves' Cushing's Addison's Hodgkin's Huntington's
Tourette's Raynaud's Sjogren's Wilson's Bell's Kawasaki Marfan Guillain-Barre Stevens-Johnson
Ehlers-Danlos Asperger's Down Glasgow Apgar Braden Morse Wells Centor Framingham Gleason
Breslow Clark Child-Pugh MELD Ranson Alvarado Mallampati Karnofsky ECOG Beck Hamilton
Edinburgh Foley Swan-Ganz Hickman Groshong Jackson-Pratt Penrose Salem Whipple Nissen Hartmann
Billroth Roux-en-Y Babinski Romberg Kernig Brudzinski Murphy's McBurney's Rovsing Trousseau
Chvostek Tinel Phalen Finkelstein Lachman McMurray Thompson Allen Valsalva Heimlich
Trendelenburg Fowler's Kussmaul Cheyne-Stokes Korotkoff Doppler Holter Pap Gram Coombs Snellen
Weber Rinne
""".split()
FRAMES = {
    "drug": (
        DRUGS,
        (
            "Participant: I take {} in the morning, and it helps.",
            "Caregiver: They switched her to {} last month.",
            "Nurse: {} was held because of the pressure.",
            "Patient: My doctor wants me off {} by summer.",
            "Pharmacist: {} comes in a generic now, so it's cheaper.",
        ),
    ),
    "vendor": (
        VENDORS,
        (
            "Nurse: We chart everything in {} now.",
            "Participant: {} sent a rep to train us.",
            "Clinician: The {} system goes down every Tuesday night.",
            "Nurse: Honestly {} is slow, but it works.",
            "Coordinator: Our contract with {} ends next year.",
        ),
    ),
    "eponym": (
        EPONYMS,
        (
            "Clinician: We talked about {} at the family meeting.",
            "Participant: My father had {} for years.",
            "Nurse: The {} score was done on admission.",
            "Resident: {} was positive on exam.",
            "Clinician: We ruled out {} with the labs.",
        ),
    ),
}
_UNITS = "zero one two three four five six seven eight nine ten eleven twelve thirteen".split()
_UNITS += "fourteen fifteen sixteen seventeen eighteen nineteen".split()
_TENS = "twenty thirty forty fifty sixty seventy eighty ninety".split()
NUMBER_NEGATIVES = [
    *(
        frame.format(n=n, w=w)
        for n in (45, 62, 71, 78, 83, 86, 88, 89)
        for w in (_TENS[n // 10 - 2] + ("" if n % 10 == 0 else "-" + _UNITS[n % 10]),)
        for frame in (
            "Participant: My mother is {w} and still gardens.",
            "Caregiver: He turned {n} in the spring.",
            "Nurse: She's {n} years old and sharp.",
            "Clinician: A {n}-year-old man with chest pain.",
            "Participant: I was {w} when I retired.",
            "Patient: I'm {n}, so I know my body.",
            "Participant: At {n} you slow down.",
            "Nurse: the patient is {w} years old",
        )
    ),
    *(
        frame.format(y=y, yy=str(y)[2:])
        for y in (1987, 1999, 2004, 2012, 2019, 2023)
        for frame in (
            "Participant: Back in {y} I had the first stroke.",
            "Clinician: Diagnosed in {y}, stable since.",
            "Participant: We moved here in '{yy}.",
            "Nurse: I've worked here since {y}.",
        )
    ),
    "Participant: Last week was rough.",
    "Caregiver: Two weeks ago she fell.",
    "Participant: A few years back I quit smoking.",
    "Caregiver: Every other Tuesday we go to dialysis.",
    "Participant: Around Christmas she gets confused.",
    "Nurse: BP 128 over 84, heart rate 96, temp 99.1.",
    "Clinician: Sats 91 percent on room air.",
    "Nurse: Room 418, bed 2.",
    "Nurse: 4 West has 28 beds.",
    "Nurse: We gave 40 of Lasix and 2 of Ativan.",
    "Clinician: Weight 92 kilos, BMI 31.",
    "Nurse: Extension 4471 for the charge nurse.",
    "Clinician: Pain 7 out of 10.",
]
LOCALES = (
    "en_US en_GB es_MX pt_BR fr_FR de_DE it_IT pl_PL nl_NL sv_SE fi_FI tr_TR vi_VN en_IN hi_IN "
    "id_ID fil_PH ga_IE cs_CZ hu_HU ro_RO hr_HR da_DK no_NO en_NG sw yo_NG zu_ZA en_AU en_CA "
    "ko_KR ja_JP zh_CN ru_RU uk_UA el_GR he_IL ar_AA fa_IR th_TH"
).split()
NAME_FRAMES = (
    "Interviewer: Can you tell me about your week?\n{first}: It was busy.\n"
    "Interviewer: Okay.\n{first}: Yeah.",
    "Participant: My sister {first} drives me to dialysis.",
    "Nurse: I checked with {first}, she was on nights.",
    "Caregiver: {first} said the pump was beeping again.",
    "Participant: Dr. {last} wants another scan.",
    "Participant: My neighbor {full} checks on me.",
    "Interviewer: Thanks, {first}, that's helpful.",
    "Clinician: Ask {first} about the schedule, she knows.",
    "Participant: {first} and I went to the pharmacy.",
    "Caregiver: We called {full} at the clinic.",
    "participant: my name is {lfull} and i live nearby",
    "Participant: I'm {full}, I've been a patient here for years.",
)
PREAMBLE = "Interviewer: Thanks for joining.\nParticipant: Sure.\n"


def _found(text: str, phrase: str) -> bool:
    spans = detect(text).spans
    covered = [False] * len(text)
    for s in spans:
        covered[s.start : s.end] = [True] * (s.end - s.start)
    pos = text.find(phrase)
    while pos >= 0:
        if not all(covered[i] for i in range(pos, pos + len(phrase)) if not text[i].isspace()):
            return False
        pos = text.find(phrase, pos + 1)
    return True


def negatives() -> None:
    for kind, (words, frames) in FRAMES.items():
        bad = [w for w in words for f in frames if detect(f.format(w)).spans]
        print(f"{kind:8s} {len(bad):4d} of {len(words) * len(frames)} sentences redacted", end="")
        print(f"  ({', '.join(sorted(set(bad)))})" if bad else "")
    bad_n = [s for s in NUMBER_NEGATIVES if detect(s).spans]
    print(f"numbers  {len(bad_n):4d} of {len(NUMBER_NEGATIVES)} sentences redacted")


def names() -> None:
    try:
        from faker import Faker
    except ImportError:
        print("names: skipped (faker is a dev dependency)")
        return
    total: Counter[str] = Counter()
    missed: Counter[str] = Counter()
    frames_missed: defaultdict[int, int] = defaultdict(int)
    for locale in LOCALES:
        fake = Faker(locale)
        fake.seed_instance(11)
        for _ in range(25):
            first, last = fake.first_name(), fake.last_name()
            values = {"first": first, "last": last, "full": f"{first} {last}"}
            values["lfull"] = values["full"].lower()
            for i, frame in enumerate(NAME_FRAMES):
                key = next(k for k in values if "{" + k + "}" in frame)
                total[locale] += 1
                if not _found(PREAMBLE + frame.format(**values), values[key]):
                    missed[locale] += 1
                    frames_missed[i] += 1
    n, m = sum(total.values()), sum(missed.values())
    print(f"names    recall {100 * (n - m) / n:.1f}% ({n - m} of {n})")
    for locale in sorted(total, key=lambda loc: missed[loc] / total[loc], reverse=True)[:8]:
        print(f"  {locale:6s} {100 * (1 - missed[locale] / total[locale]):5.1f}%")
    print("  misses by frame:", dict(sorted(frames_missed.items())))


if __name__ == "__main__":
    negatives()
    names()
