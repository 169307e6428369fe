"""The service's marks and signatures: the watermark key, the signing identity, and what each
job's clip gets (visible and invisible marks, C2PA credentials), from the settings."""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from functools import cached_property
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy.engine import Engine

from pipeline.families import parse_size
from pipeline.provenance.certificates import (
    CertificateError,
    SigningIdentity,
    ensure_identity,
    load_identity,
)
from pipeline.provenance.credentials import ContentCredentials
from pipeline.watermark import (
    InvisibleWatermark,
    RivaGanWatermark,
    WatermarkKey,
    Watermarks,
    new_mark_id,
    rivagan,
)
from service.core.settings import ConfigError, Settings
from service.provenance import registry

if TYPE_CHECKING:  # the API process never renders, and must not import torch
    from pipeline.generate import VideoModel

logger = logging.getLogger(__name__)

GENERATOR = "OpenReel"


def generator_version() -> str:
    try:
        return version("openreel")
    except PackageNotFoundError:
        return "0+unknown"


@dataclass(frozen=True)
class ClipSource:
    """The clip an extension or an edit was made from."""

    path: Path
    """The file, to become the credentials' parentOf ingredient."""
    title: str
    job_id: str | None
    """Its OpenReel job, or None for an upload that did not come from OpenReel."""

    @property
    def registered_as(self) -> str:
        """What the outputs registry records as the source: its job, or `upload`."""
        return self.job_id or "upload"

    def to_dict(self) -> dict[str, Any]:
        return {
            "job_id": self.job_id,
            "origin": "openreel" if self.job_id else "upload (not made by OpenReel)",
            "title": self.title,
        }


@dataclass(frozen=True)
class ClipMarks:
    """What one clip is marked and signed with."""

    mark_id: int
    watermarks: Watermarks
    credentials: ContentCredentials


class Provenance:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.key = WatermarkKey(settings.watermark.key.get_secret_value())
        self.old_keys = [WatermarkKey(k.get_secret_value()) for k in settings.watermark.old_keys]
        self._identity: SigningIdentity | None = None
        self._lock = threading.Lock()
        if settings.watermark.rivagan == "on" and not rivagan.available():
            raise ConfigError(
                "watermark.rivagan is on, but invisible-watermark and onnxruntime are not "
                "installed (pip install 'openreel[rivagan]')"
            )

    @property
    def directory(self) -> Path:
        return self.settings.data_dir / "provenance"

    def identity(self) -> SigningIdentity:
        """The signing identity: the operator's, or one made in DATA_DIR/provenance on first
        use. A broken operator-supplied one is a ConfigError."""
        with self._lock:
            if self._identity is None:
                config = self.settings.provenance
                try:
                    if config.certificate_chain is not None:
                        assert config.private_key is not None
                        self._identity = load_identity(
                            config.certificate_chain, config.private_key, config.root_certificate
                        )
                    else:
                        self._identity = ensure_identity(self.directory, config.organization)
                except CertificateError as exc:
                    raise ConfigError(f"provenance: {exc}") from None
            return self._identity

    def root_pem(self) -> bytes:
        return self.identity().root_pem

    def keys(self) -> list[WatermarkKey]:
        """The current key first, then the old ones verify still tries."""
        return [self.key, *self.old_keys]

    @cached_property
    def output_sizes(self) -> list[tuple[int, int]]:
        """Every size the service renders (a scaled clip is read back at these)."""
        sizes: list[tuple[int, int]] = []
        for name in self.settings.served_models():
            for size in self.settings.resolve_model(name)[1].sizes:
                parsed = parse_size(size)
                if parsed not in sizes:
                    sizes.append(parsed)
        return sizes

    def _rivagan(self, mark_id: int) -> RivaGanWatermark | None:
        mode = self.settings.watermark.rivagan
        if mode == "off" or (mode == "auto" and not rivagan.available()):
            return None
        return RivaGanWatermark(mark_id, every=self.settings.watermark.rivagan_every)

    def fresh_mark_id(self, engine: Engine) -> int:
        """A mark id no output of the current key has (48 random bits: a repeat is rare, not
        impossible)."""
        while True:
            mark_id = new_mark_id()
            if not registry.mark_taken(engine, self.key.id, mark_id):
                return mark_id

    def clip_marks(
        self,
        engine: Engine,
        *,
        job_id: str,
        model_name: str,
        model: VideoModel,
        title: str,
        flags: list[str] | None = None,
        mark_id: int | None = None,
        source: ClipSource | None = None,
    ) -> ClipMarks:
        """Marks and credentials for one clip, under a fresh mark id (or `mark_id`, the one
        an earlier attempt at the same clip drew its first windows with)."""
        if mark_id is None:
            mark_id = self.fresh_mark_id(engine)
        config = model.config
        assertion: dict[str, Any] = {
            "job_id": job_id,
            "watermark_id": f"{mark_id:012x}",
            "watermark_key": self.key.id,
            "model": model_name,
            "model_source": config.source,
            "model_revision": config.revision,
            "model_family": config.family,
            "license": config.license,
            "training_data": config.training_data,
            "experimental": config.experimental,
            "weights_sha256": model.weights_digest,
        }
        if flags is not None:
            assertion["moderation_flags"] = flags
        if source is not None:
            assertion["source"] = source.to_dict()
        return ClipMarks(
            mark_id=mark_id,
            watermarks=Watermarks(
                visible=self.settings.watermark.visible,
                invisible=InvisibleWatermark(
                    self.key, mark_id, strength=self.settings.watermark.strength
                ),
                rivagan=self._rivagan(mark_id),
            ),
            credentials=ContentCredentials(
                identity=self.identity(),
                generator=GENERATOR,
                generator_version=generator_version(),
                title=title,
                assertion=assertion,
                source=None if source is None else source.path,
                source_title=source.title if source is not None else "source.mp4",
            ),
        )

    def register(
        self,
        engine: Engine,
        marks: ClipMarks,
        *,
        origin: str,
        job_id: str,
        user_id: str | None,
        model_name: str,
        fingerprint: list[int] | None,
        source_job_id: str | None = None,
    ) -> None:
        """Record a made clip in the outputs registry, so that verify can trace it back."""
        registry.register_output(
            engine,
            source_job_id=source_job_id,
            mark_id=marks.mark_id,
            key_id=self.key.id,
            origin=origin,
            job_id=job_id,
            user_id=user_id,
            model=model_name,
            fingerprint=fingerprint or [],
        )
