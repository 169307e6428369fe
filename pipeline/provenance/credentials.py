"""Content Credentials (C2PA) on MP4 files, with `c2pa-python`: sign a clip, read one back.

A signed clip carries a manifest saying it was created (`c2pa.created`), or, for an extension
or an edit, opened from a source clip and edited (`c2pa.opened` with the source as its
`parentOf` ingredient, then `c2pa.edited`), by a trained algorithm (IPTC digital source type trainedAlgorithmicMedia), by which generator, plus an
`org.openreel.generation` assertion: model, revision, licence, weights hash, job and mark ids.
Signing needs no network (no timestamp authority): the signing time is the claim's own.

Reading gives one of four states: trusted (intact, signed by a certificate that chains to a
trust anchor given), untrusted (intact, signed by someone else), invalid (the file or manifest
was changed after signing), absent (no manifest: never signed, or re-encoded since).
"""

from __future__ import annotations

import json
import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from pipeline.provenance.certificates import SigningIdentity

ASSERTION_LABEL = "org.openreel.generation"
TRAINED_ALGORITHMIC_MEDIA = "http://cv.iptc.org/newscodes/digitalsourcetype/trainedAlgorithmicMedia"

State = Literal["trusted", "untrusted", "invalid", "absent"]

_SOURCE_LABEL = "source"


@dataclass(frozen=True)
class ContentCredentials:
    """How to sign the clips of one job."""

    identity: SigningIdentity
    generator: str
    """Name of the software, e.g. OpenReel."""
    generator_version: str
    title: str
    assertion: dict[str, Any]
    """The OpenReel assertion: model, revision, licence, weights hash, job and mark ids."""
    source: Path | None = None
    """The clip this one was made from (an extension, an edit): its ingredient, with its own
    manifest if it has one."""
    source_title: str = "source.mp4"

    def _actions(self) -> list[dict[str, Any]]:
        agent = {"name": self.generator, "version": self.generator_version}
        if self.source is None:
            return [
                {
                    "action": "c2pa.created",
                    "digitalSourceType": TRAINED_ALGORITHMIC_MEDIA,
                    "softwareAgent": agent,
                }
            ]
        return [
            {"action": "c2pa.opened", "parameters": {"ingredientIds": [_SOURCE_LABEL]}},
            {
                "action": "c2pa.edited",
                "digitalSourceType": TRAINED_ALGORITHMIC_MEDIA,
                "softwareAgent": agent,
            },
        ]

    def manifest(self) -> dict[str, Any]:
        return {
            "claim_generator_info": [{"name": self.generator, "version": self.generator_version}],
            "title": self.title,
            "format": "video/mp4",
            "assertions": [
                {"label": "c2pa.actions", "data": {"actions": self._actions()}},
                {"label": ASSERTION_LABEL, "data": self.assertion},
            ],
        }

    def sign(self, path: str | Path) -> None:
        """Sign the MP4 at `path` in place (atomically: a failure leaves it as it was)."""
        import c2pa

        path = Path(path)
        signer_info = c2pa.C2paSignerInfo(
            c2pa.C2paSigningAlg.ES256, self.identity.chain_pem, self.identity.key_pem, None
        )
        fd, name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".c2pa.mp4", dir=path.parent)
        os.close(fd)
        scratch = Path(name)
        try:
            scratch.unlink()  # the signer creates its output itself
            with (
                c2pa.Signer.from_info(signer_info) as signer,
                c2pa.Builder(json.dumps(self.manifest())) as builder,
            ):
                if self.source is not None:
                    ingredient = {
                        "title": self.source_title,
                        "relationship": "parentOf",
                        "label": _SOURCE_LABEL,
                    }
                    with open(self.source, "rb") as source:
                        builder.add_ingredient(json.dumps(ingredient), "video/mp4", source)
                builder.sign_file(path, scratch, signer)
            os.replace(scratch, path)
        finally:
            scratch.unlink(missing_ok=True)


@dataclass
class CredentialsReport:
    state: State
    generator: str | None = None
    issuer: str | None = None
    """Who signed: the signing certificate's subject."""
    assertion: dict[str, Any] | None = None
    """The OpenReel assertion, when the manifest has one."""
    edited_from: str | None = None
    """The title of the clip this one was edited from (its parentOf ingredient), if any."""
    problems: list[str] = field(default_factory=list)
    """Validation failures, as C2PA codes with their explanation."""

    def to_dict(self) -> dict[str, Any]:
        return {
            "state": self.state,
            "generator": self.generator,
            "issuer": self.issuer,
            "assertion": self.assertion,
            "problems": self.problems,
            "edited_from": self.edited_from,
        }


def read_credentials(path: str | Path, trust_anchors_pem: bytes) -> CredentialsReport:
    """Check the Content Credentials of the file at `path` against these trust anchors."""
    import c2pa

    settings = c2pa.Settings.from_dict(
        {
            "verify": {"verify_trust": True},
            "trust": {"trust_anchors": trust_anchors_pem.decode("ascii")},
        }
    )
    try:
        with c2pa.Context(settings) as context, c2pa.Reader(str(path), context=context) as reader:
            state = reader.get_validation_state()
            store = json.loads(reader.json())
    except c2pa.C2paError as exc:
        if "ManifestNotFound" in type(exc).__name__ or "not found" in str(exc).lower():
            return CredentialsReport(state="absent")
        return CredentialsReport(state="invalid", problems=[str(exc)])
    manifest = store.get("manifests", {}).get(store.get("active_manifest"), {})
    assertion = next(
        (
            a.get("data")
            for a in manifest.get("assertions", [])
            if a.get("label") == ASSERTION_LABEL
        ),
        None,
    )
    generators = manifest.get("claim_generator_info") or [{}]
    parent = next(
        (i for i in manifest.get("ingredients", []) if i.get("relationship") == "parentOf"), None
    )
    signature = manifest.get("signature_info") or {}
    problems = [
        f"{status.get('code')}: {status.get('explanation', '')}".strip()
        for status in store.get("validation_status", []) or []
    ]
    mapped: State = {"Trusted": "trusted", "Valid": "untrusted"}.get(str(state), "invalid")
    return CredentialsReport(
        state=mapped,
        generator=generators[0].get("name"),
        issuer=signature.get("issuer") or signature.get("common_name"),
        assertion=assertion,
        problems=problems,
        edited_from=None if parent is None else parent.get("title"),
    )
