"""The default term lists, by category. Operators extend or replace them in YAML
(`moderation.categories`); these are a starting point, not a complete policy.

A term matches as whole words after normalisation (`normalize.py`); a trailing `*` matches
any ending (`pedo*` matches pedophile). A category matches when one of its `terms` does, or
when every group of its `all_of` has a match (a minor and a sexual term in one prompt).
"""

from __future__ import annotations

CATEGORIES = (
    "sexual_minors",
    "sexual",
    "violence_graphic",
    "real_people",
    "hate",
    "self_harm",
    "election_misinformation",
)

MINOR_TERMS = [
    "child", "children", "kid", "kids", "minor", "minors", "underage", "under age", "preteen*",
    "pre teen*", "toddler*", "infant", "infants", "schoolgirl*", "schoolboy*", "little girl*",
    "little boy*", "young girl*", "young boy*", "teen", "teens", "teenage*", "baby", "babies",
    "year old girl", "year old boy", "loli*", "shota*",
]  # fmt: skip

SEXUAL_TERMS = [
    "nude", "nudes", "naked", "nudity", "sex", "sexy", "sexual*", "porn*", "erotic*",
    "lingerie", "topless", "undress*", "stripper*", "striptease",
    "intercourse", "orgasm*", "genital*",
    "hentai", "nsfw", "xxx", "fetish*",
]  # fmt: skip

DEFAULT_CATEGORIES: dict[str, dict] = {
    "sexual_minors": {
        "terms": [
            "csam",
            "child porn*",
            "kiddie porn*",
            "pedo*",
            "paedo*",
            "jailbait",
            "lolicon",
            "shotacon",
        ],
        "all_of": [MINOR_TERMS, SEXUAL_TERMS],
    },  # fmt: skip
    "sexual": {"terms": SEXUAL_TERMS},
    "violence_graphic": {
        "terms": [
            "gore",
            "gory",
            "disembowel*",
            "dismember*",
            "decapitat*",
            "beheading*",
            "mutilat*",
            "entrails",
            "guts spilling",
            "blood spurting",
            "torture*",
            "flayed",
            "severed head*",
            "severed limb*",
            "corpse pile*",
            "snuff",
        ]
    },  # fmt: skip
    "real_people": {
        # Public figures whose likeness is a deepfake risk; operators edit this list.
        "terms": [
            "joe biden",
            "donald trump",
            "kamala harris",
            "barack obama",
            "vladimir putin",
            "volodymyr zelensky",
            "xi jinping",
            "emmanuel macron",
            "narendra modi",
            "pope francis",
            "elon musk",
            "taylor swift",
            "king charles",
        ]
    },  # fmt: skip
    "hate": {
        "terms": [
            "ethnic cleansing",
            "race war",
            "white power",
            "heil hitler",
            "sieg heil",
            "subhuman*",
            "untermensch*",
            "gas the jews",
            "kill all jews",
            "kill all muslims",
            "kill all blacks",
            "kill all gays",
            "lynching",
            "kkk rally",
            "nazi propaganda",
        ]
    },  # fmt: skip
    "self_harm": {
        "terms": [
            "suicide*",
            "kill myself",
            "killing myself",
            "self harm*",
            "selfharm*",
            "cutting myself",
            "slit wrist*",
            "slitting wrist*",
            "hanging himself",
            "hanging herself",
            "overdos*",
            "pro ana",
            "thinspiration",
        ]
    },  # fmt: skip
    "election_misinformation": {
        "terms": [
            "ballot stuffing",
            "stuffing ballots",
            "stuffed ballot box*",
            "rigged election*",
            "election is rigged",
            "stolen election",
            "fake ballots",
            "burning ballots",
            "shredding ballots",
            "dumping ballots",
            "voting machines switching",
            "votes being deleted",
            "polling station closed",
            "polls are closed",
            "vote by text",
            "election officials caught",
        ]
    },  # fmt: skip
}
