"""Verify: did OpenReel make this clip, and which job? Three checks, in order:

1. C2PA: the file's content credentials, against the service's root (trusted / untrusted /
   invalid / absent). A re-encode strips them, so
2. the invisible watermark, read from the clip's frames (at its own size and the service's
   output sizes), its id looked up in the outputs registry; then
3. a perceptual-hash match against the fingerprints of every output.

The job id is named only to a caller who may see that job (`can_see`).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from sqlalchemy.engine import Engine

from pipeline.provenance.credentials import read_credentials
from pipeline.provenance.fingerprint import clip_fingerprint
from pipeline.watermark import rivagan
from pipeline.watermark.invisible import detect
from service.core.runtime import Runtime
from service.core.settings import Settings
from service.domain import audit
from service.domain.accounts import User
from service.domain.audit import Actor
from service.domain.errors import InvalidInput
from service.domain.policy import Policy
from service.provenance import registry
from service.provenance.marks import Provenance

logger = logging.getLogger(__name__)

KEPT_FRAMES = 64
"""Frames kept from a clip for hashing (evenly spread); the luma of every frame is summed."""
RIVAGAN_FRAMES = 4


class NotAVideo(Exception):
    """The file is not a video that can be decoded."""


@dataclass
class ClipReading:
    luma: np.ndarray
    """Mean luma over all frames."""
    frames: list[np.ndarray]
    """Up to KEPT_FRAMES RGB frames, evenly spread, the last one included."""
    frame_count: int
    width: int
    height: int


def read_clip(path: str | Path) -> ClipReading:
    """Decode a video file once: the mean luma of all its frames, and a spread of frames."""
    import av

    try:
        container = av.open(str(path))
    except (av.error.FFmpegError, OSError) as exc:
        reason = getattr(exc, "strerror", None) or type(exc).__name__
        raise NotAVideo(f"the file is not a video that can be read ({reason})") from None
    with container:
        if not container.streams.video:
            raise NotAVideo("the file has no video stream")
        stream = container.streams.video[0]
        stream.thread_type = "AUTO"
        total: np.ndarray | None = None
        kept: list[tuple[int, np.ndarray]] = []
        step = 1
        count = 0
        last: np.ndarray | None = None
        try:
            for frame in container.decode(stream):
                rgb = frame.to_ndarray(format="rgb24")
                luma = frame.to_ndarray(format="gray").astype(np.float64)
                total = luma if total is None else total + luma
                if count % step == 0:
                    kept.append((count, rgb))
                    if len(kept) > KEPT_FRAMES:  # keep every other one, and take half as many
                        step *= 2
                        kept = [(i, f) for i, f in kept if i % step == 0]
                last = rgb
                count += 1
        except (av.error.FFmpegError, ValueError) as exc:
            if count == 0:
                reason = getattr(exc, "strerror", None) or type(exc).__name__
                raise NotAVideo(f"the video cannot be decoded ({reason})") from None
            logger.info("clip decoded up to frame %d: %s", count, exc)
    if total is None or last is None:
        raise NotAVideo("the video has no frames")
    frames = [f for i, f in kept if i != count - 1] + [last]
    height, width = last.shape[:2]
    return ClipReading(
        luma=(total / count).astype(np.float32),
        frames=frames,
        frame_count=count,
        width=width,
        height=height,
    )


@dataclass
class Verification:
    c2pa: dict[str, Any]
    watermark: dict[str, Any]
    hash_match: dict[str, Any]
    job_id: str | None = None
    identified_by: str | None = None
    """c2pa, watermark or hash: the first check that named the clip's job."""
    job_visible: bool = False
    """Whether the caller may see the job (the job id is given only then)."""
    rivagan: dict[str, Any] | None = None
    source: str | None = None
    """What the clip was edited or extended from: its job (if the caller may see it), `not
    visible to you`, or `upload (not made by OpenReel)`; None for a clip made from text."""

    @property
    def from_openreel(self) -> bool:
        return (
            self.c2pa["state"] == "trusted"
            or self.watermark["detected"]
            or self.hash_match["matched"]
        )

    def summary(self) -> str:
        if not self.from_openreel:
            return "Not from OpenReel: no OpenReel credentials, watermark or known output found."
        found = [
            name
            for name, hit in (
                ("trusted C2PA credentials", self.c2pa["state"] == "trusted"),
                ("the invisible watermark", self.watermark["detected"]),
                ("a perceptual-hash match", self.hash_match["matched"]),
            )
            if hit
        ]
        job = (
            f"; job {self.job_id}"
            if self.job_id
            else ("; the job is not visible to you" if self.identified_by else "")
        )
        source = f"; made from {self.source}" if self.source else ""
        return f"Made by OpenReel: {', '.join(found)}{job}{source}."

    def to_dict(self) -> dict[str, Any]:
        out = {
            "object": "verification",
            "from_openreel": self.from_openreel,
            "summary": self.summary(),
            "job_id": self.job_id,
            "source": self.source,
            "identified_by": self.identified_by,
            "c2pa": self.c2pa,
            "watermark": self.watermark,
            "hash_match": self.hash_match,
        }
        if self.rivagan is not None:
            out["rivagan"] = self.rivagan
        return out


def verify_file(
    path: str | Path,
    *,
    settings: Settings,
    engine: Engine,
    provenance: Provenance,
    can_see: Callable[[str], bool],
) -> Verification:
    """Check the clip at `path`; NotAVideo when it cannot be decoded."""
    clip = read_clip(path)  # first: a file that is no video is refused before anything else
    found: list[tuple[str, str]] = []  # (check, job id), in check order

    # 1. C2PA
    credentials = read_credentials(path, provenance.root_pem())
    c2pa = credentials.to_dict()
    assertion = credentials.assertion or {}
    if credentials.state == "trusted" and assertion.get("job_id"):
        found.append(("c2pa", str(assertion["job_id"])))

    # 2. Invisible watermark, under the current key and then the old ones
    watermark: dict[str, Any] = {"detected": False}
    for key in provenance.keys():
        detection = detect(
            clip.luma,
            key,
            sizes=provenance.output_sizes,
            known_ids=registry.known_mark_ids(engine, key.id),
        )
        if detection.detected or key is provenance.key:
            watermark = {**detection.to_dict(), "key": key.id}
        if detection.detected:
            output = registry.by_mark(engine, key.id, detection.mark_id)
            if output is not None:
                found.append(("watermark", output.job_id))
            break

    # 3. Perceptual hash against every output
    fingerprint = clip_fingerprint(clip.frames)
    match = registry.nearest(engine, fingerprint)
    limit = settings.verify.max_hash_distance
    hash_match: dict[str, Any] = {
        "matched": match is not None and match.distance <= limit,
        "distance": None if match is None else round(match.distance, 2),
        "max_distance": limit,
    }
    if match is not None and match.distance <= limit:
        found.append(("hash", match.output.job_id))

    result = Verification(c2pa=c2pa, watermark=watermark, hash_match=hash_match)
    if found:
        result.identified_by, job_id = found[0]
        result.job_visible = can_see(job_id)
        if result.job_visible:
            result.job_id = job_id
            result.source = _source_named(registry.source_of(engine, job_id), can_see)
    if isinstance(c2pa.get("assertion"), dict):
        named = c2pa["assertion"]
        if not result.job_visible:
            named = {k: v for k, v in named.items() if k not in ("job_id", "source")}
        elif isinstance(named.get("source"), dict) and named["source"].get("job_id"):
            if not can_see(str(named["source"]["job_id"])):
                named = {**named, "source": {**named["source"], "job_id": None}}
        c2pa["assertion"] = named

    # An optional second opinion: RivaGAN carries the low 32 bits of the mark id.
    if settings.watermark.rivagan != "off" and rivagan.available():
        read = rivagan.read(
            clip.frames[:: max(1, len(clip.frames) // RIVAGAN_FRAMES)][:RIVAGAN_FRAMES]
        )
        if read is not None:
            result.rivagan = {"value": f"{read.value:08x}", "agreement": round(read.agreement, 3)}
    return result


def _source_named(source: str | None, can_see: Callable[[str], bool]) -> str | None:
    if source is None:
        return None
    if source == "upload":
        return "upload (not made by OpenReel)"
    return source if can_see(source) else "an OpenReel video not visible to you"


class Verifier:
    """Verify for callers of the API: roles with the verify permission; the job id is named
    only to one who may see the job, and every check is audited."""

    def __init__(self, runtime: Runtime, provenance: Provenance) -> None:
        self.runtime = runtime
        self.provenance = provenance
        self.policy = Policy(runtime.settings)

    def may_verify(self, user: User) -> None:
        self.policy.require(user, "verify")

    def verify(self, user: User, actor: Actor, path: Path) -> dict[str, Any]:
        """The verification of the clip at `path`; InvalidInput when it is no video."""
        self.may_verify(user)
        try:
            result = verify_file(
                path,
                settings=self.runtime.settings,
                engine=self.runtime.engine,
                provenance=self.provenance,
                can_see=lambda job_id: self._may_see(user, job_id),
            )
        except NotAVideo as exc:
            raise InvalidInput(str(exc), param="file", code="invalid_file") from None
        body = result.to_dict()
        audit.record(
            self.runtime.engine,
            "provenance.verified",
            actor,
            target_type="video" if result.job_id else None,
            target_id=result.job_id,
            details={
                "bytes": path.stat().st_size,
                "from_openreel": body["from_openreel"],
                "identified_by": result.identified_by,
                "c2pa": body["c2pa"]["state"],
                "watermark": body["watermark"].get("detected"),
            },
        )
        return body

    def _may_see(self, user: User, job_id: str) -> bool:
        job = self.runtime.records.find(job_id)
        if job is None:  # made by `openreel generate` on the host: operators only
            return self.policy.can(user, "administer")
        return self.policy.sees(user, job)
