"""What a conditioned request starts from, checked before anything is queued: an image to
begin with (input_reference), or a clip to extend or edit (an upload, or an OpenReel video
the caller can see). An input that does not decode, is too large or too long, or has the
wrong size is refused here, naming its parameter; a good one is kept in the storage under
`inputs/{video id}/` for the worker.

No torch here: images are read with Pillow, clips with PyAV.
"""

from __future__ import annotations

import hashlib
import io
import tempfile
from dataclasses import dataclass
from pathlib import Path

from pipeline.encode import VideoInfo, probe_video
from service.core.storage import Storage
from service.domain.errors import InvalidInput

MAX_IMAGE_PIXELS = 4096 * 4096
"""Refused before decoding: a small file can claim a huge image (a decompression bomb)."""


@dataclass(frozen=True)
class Upload:
    """A file sent with a request (multipart, or a data: URL)."""

    data: bytes
    param: str
    """The parameter it came as: input_reference or video."""
    filename: str | None = None

    @property
    def digest(self) -> str:
        return hashlib.sha256(self.data).hexdigest()


@dataclass(frozen=True)
class CheckedImage:
    png: bytes
    """The image as PNG, re-encoded: no metadata, one format for the worker."""
    width: int
    height: int


def check_image(upload: Upload) -> CheckedImage:
    """The uploaded image, decoded and re-encoded; InvalidInput when it is not an image."""
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(io.BytesIO(upload.data)) as probe:
            width, height = probe.size
            if width * height > MAX_IMAGE_PIXELS:
                raise InvalidInput(
                    f"{upload.param} is {width}x{height}, over {MAX_IMAGE_PIXELS} pixels.",
                    param=upload.param,
                    code="invalid_image",
                )
            probe.verify()
        with Image.open(io.BytesIO(upload.data)) as image:
            rgb = image.convert("RGB")
    except (UnidentifiedImageError, OSError, ValueError, Image.DecompressionBombError) as exc:
        raise InvalidInput(
            f"{upload.param} is not an image that can be read ({type(exc).__name__}).",
            param=upload.param,
            code="invalid_image",
        ) from None
    out = io.BytesIO()
    rgb.save(out, format="PNG")
    return CheckedImage(out.getvalue(), width, height)


def check_image_size(image: CheckedImage, width: int, height: int, param: str) -> None:
    if (image.width, image.height) != (width, height):
        raise InvalidInput(
            f"{param} is {image.width}x{image.height}, and the video is {width}x{height}: "
            "they must match.",
            param=param,
            code="invalid_value",
        )


def probe_clip(path: Path, *, param: str, max_seconds: float, max_fps: int = 120) -> VideoInfo:
    """A clip's size and length; InvalidInput when it does not decode or is too long."""
    try:
        info = probe_video(path, max_frames=int(max_seconds * max_fps) + 1)
    except ValueError as exc:
        raise InvalidInput(
            f"{param} cannot be used: {exc}.", param=param, code="invalid_video"
        ) from None
    if info.seconds > max_seconds + 1e-6:
        raise InvalidInput(
            f"{param} is {info.seconds:.2f} s long; sources may be at most {max_seconds:g} s.",
            param=param,
            code="invalid_video",
        )
    if float(info.rate) > max_fps:
        raise InvalidInput(
            f"{param} runs at {float(info.rate):g} fps; at most {max_fps} is accepted.",
            param=param,
            code="invalid_video",
        )
    return info


def probe_upload(upload: Upload, *, max_seconds: float) -> tuple[Path, VideoInfo]:
    """An uploaded clip written to a temporary file (the caller removes it), and its info."""
    fd, name = tempfile.mkstemp(prefix="openreel-upload-", suffix=".mp4")
    path = Path(name)
    try:
        with open(fd, "wb") as out:
            out.write(upload.data)
        return path, probe_clip(path, param=upload.param, max_seconds=max_seconds)
    except BaseException:
        path.unlink(missing_ok=True)
        raise


def input_key(video_id: str, name: str) -> str:
    return f"inputs/{video_id}/{name}"


def keep_input(storage: Storage, video_id: str, name: str, data: bytes, content_type: str) -> str:
    """Put an input into the storage for the worker; returns its key."""
    key = input_key(video_id, name)
    with tempfile.NamedTemporaryFile(prefix="openreel-input-") as scratch:
        scratch.write(data)
        scratch.flush()
        storage.put_file(key, Path(scratch.name), content_type)
    return key
