"""The fictional wording of the simulated reviews: authors, journals, populations, age groups, settings,
interventions, countries and how each review type is named in a title. Plainly invented."""

from __future__ import annotations

import numpy as np

SURNAMES = np.array(
    [
        "Ashgrove",
        "Brindlecombe",
        "Corriwen",
        "Dunmarrow",
        "Elderby",
        "Fallowmere",
        "Glimmerton",
        "Hazelbrook",
        "Ivyreach",
        "Juniperlee",
        "Kestrelwood",
        "Larkspire",
        "Mossfield",
        "Nettlecroft",
        "Oakhollow",
        "Pebbleworth",
        "Quillmoor",
        "Rookhaven",
        "Sallowby",
        "Thornwick",
        "Umberlee",
        "Vellacott",
        "Wrenfield",
        "Yarrowby",
        "Zephyrton",
    ],
    dtype=object,
)
JOURNALS = np.array(
    [
        "Journal of Simulated Peer Support",
        "Simulated Mental Health Review",
        "Fictional Psychiatry Reports",
        "Synthetic Evidence in Mental Health",
        "Imaginary Journal of Recovery Studies",
    ],
    dtype=object,
)
POPULATIONS = np.array(
    [
        "Adults with severe mental illness",
        "Adults with depression",
        "Women with perinatal depression",
        "Young people with mental health problems",
        "Older adults with depression",
        "Veterans with post-traumatic stress",
        "People using crisis services",
        "People with mental health problems",
    ],
    dtype=object,
)
AGE_GROUPS = np.array(
    ["adults", "adults", "adults", "young people", "older adults", "adults", "mixed", "mixed"], dtype=object
)
SETTINGS = np.array(
    [
        "Community mental health services",
        "Inpatient and discharge",
        "Online",
        "Primary care",
        "Mixed settings",
        "Voluntary sector",
    ],
    dtype=object,
)
INTERVENTIONS = np.array(
    [
        "One-to-one peer support",
        "Group peer support",
        "Online peer support",
        "Peer-delivered self-management",
        "Peer support (mixed formats)",
        "Peer-led crisis support",
    ],
    dtype=object,
)
COUNTRIES = np.array(
    [
        "USA; UK",
        "USA; Canada; UK; Australia",
        "UK",
        "Australia; New Zealand",
        "USA",
        "Netherlands; Germany; UK",
        "USA; UK; Australia; Canada; India",
        "Kenya; South Africa; Uganda",
        "China; Japan",
        "Canada; USA",
    ],
    dtype=object,
)
TYPE_PHRASES = np.array(
    [
        "a systematic review and meta-analysis",
        "a systematic review",
        "a qualitative evidence synthesis",
        "a scoping review",
        "a realist review",
        "a rapid review",
    ],
    dtype=object,
)
