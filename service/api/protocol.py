"""Request and response bodies of the Videos API, as OpenAI's SDK sends and reads them,
with OpenReel's additions (all optional for a client to read)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from service.jobs.outputs import OUTPUTS
from service.jobs.status import STATUSES

MAX_SEED = 2**63 - 1
"""The largest seed a database's 64-bit integer holds."""
MAX_STEPS = 10_000
"""Far past any model's max_steps (which refuse more, naming their own limit)."""

VideoStatus = Literal[STATUSES]
Variant = Literal[tuple(OUTPUTS)]


class CreateVideoRequest(BaseModel):
    """POST /v1/videos, as JSON or multipart form fields."""

    model_config = ConfigDict(extra="forbid")

    prompt: str
    model: str | None = None
    seconds: str | None = None
    """A number of seconds; the SDK sends a string ("4"), JSON clients may send a number."""
    size: str | None = None
    input_reference: Any = None
    # OpenReel additions
    seed: int | None = Field(default=None, ge=0, le=MAX_SEED)
    steps: int | None = Field(default=None, ge=1, le=MAX_STEPS)
    negative_prompt: str | None = None
    recaption: Literal["on", "off", "auto"] | None = None

    @field_validator("seconds", mode="before")
    @classmethod
    def _seconds_as_text(cls, value: Any) -> Any:
        if isinstance(value, bool):
            raise ValueError("seconds must be a number of seconds")
        if isinstance(value, int | float):
            return f"{value:g}"
        return value


class ExtensionRequest(BaseModel):
    """POST /v1/videos/extensions: the video (a file, or {"id": ...}) and what comes next."""

    model_config = ConfigDict(extra="forbid")

    prompt: str
    video: Any
    seconds: str | None = None
    # OpenReel additions
    model: str | None = None
    size: str | None = None
    seed: int | None = Field(default=None, ge=0, le=MAX_SEED)
    steps: int | None = Field(default=None, ge=1, le=MAX_STEPS)
    negative_prompt: str | None = None
    recaption: Literal["on", "off", "auto"] | None = None

    _seconds_as_text = field_validator("seconds", mode="before")(
        CreateVideoRequest._seconds_as_text.__func__  # type: ignore[attr-defined]
    )


class EditRequest(BaseModel):
    """POST /v1/videos/edits: video to video on the source clip."""

    model_config = ConfigDict(extra="forbid")

    prompt: str
    video: Any
    # OpenReel additions
    model: str | None = None
    strength: float | None = Field(default=None, gt=0, le=1)
    """How much of the source is re-rendered; default: the model's edit_strength."""
    seed: int | None = Field(default=None, ge=0, le=MAX_SEED)
    steps: int | None = Field(default=None, ge=1, le=MAX_STEPS)
    negative_prompt: str | None = None
    recaption: Literal["on", "off", "auto"] | None = None


class RemixRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    prompt: str


class VideoError(BaseModel):
    code: str
    message: str


class ModerationLabel(BaseModel):
    flagged: bool = True
    categories: list[str]


class Windows(BaseModel):
    total: int
    """Model calls the clip takes (an extension's source counts as the first)."""
    done: int
    """Finished and kept: a job resumed on another worker starts after them."""
    current: int | None = None
    """The one being made now, from 1."""
    resumed: int = 0
    """Made by an earlier attempt whose worker stopped, and not made again."""


class Recaption(BaseModel):
    status: Literal["rewritten", "skipped", "off", "fallback", "blocked"]
    reasons: list[str]
    """Codes: what the rewrite repaired, or why it was not used (recaption.result)."""
    detail: str | None = None
    """For a model with one caption form (toy-shapes): what its caption left out or assumed,
    "does not know: kite, hill; left out: green (a second colour)"."""


class Video(BaseModel):
    id: str
    object: Literal["video"] = "video"
    created_at: int
    completed_at: int | None = None
    expires_at: int | None = None
    model: str
    progress: int
    prompt: str
    remixed_from_video_id: str | None = None
    seconds: str
    size: str
    status: VideoStatus
    error: VideoError | None = None
    # OpenReel additions
    revised_prompt: str | None = None
    recaption: Recaption | None = None
    """How the prompt was rewritten, once it was (None before)."""
    seed: int
    steps: int
    queue_position: int | None = None
    eta_seconds: float | None = None
    frames: int
    fps: int
    duration: float
    """Actual length in seconds: frames / fps (`seconds` is what was asked for)."""
    moderation: ModerationLabel | None = None
    """Present when moderation flagged the video (a role in flag mode): it ran, and is
    confidential."""
    watermark_id: str | None = None
    """The id the invisible watermark carries (12 hex digits), once the clip is made."""
    mode: Literal["text", "image", "extend", "edit"] = "text"
    """What the clip was made from: text; an image (input_reference); a clip it extends; a
    clip it edits."""
    source_video_id: str | None = None
    """The OpenReel video this one extends or edits (an uploaded source has none)."""
    windows: Windows
    """How a clip longer than one model call is being made."""


class VideoList(BaseModel):
    object: Literal["list"] = "list"
    data: list[Video]
    first_id: str | None
    last_id: str | None
    has_more: bool


class VideoDeleted(BaseModel):
    id: str
    object: Literal["video.deleted"] = "video.deleted"
    deleted: bool = True


class ErrorDetail(BaseModel):
    message: str
    type: str
    param: str | None = None
    code: str | None = None


class ErrorResponse(BaseModel):
    error: ErrorDetail


class AccessRequestCreate(BaseModel):
    """POST /v1/access-requests: anyone may ask to join the programme."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    name: str = Field(min_length=1, max_length=100)
    email: str = Field(min_length=3, max_length=200)
    wanted_role: str = Field(min_length=1, max_length=40)
    motivation: str = Field(min_length=10, max_length=4000)


class RedeemRequest(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    name: str = Field(min_length=1, max_length=100)
    """The user name to create (one word)."""


class UserCreate(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    name: str = Field(min_length=1, max_length=100)
    role: str
    plan: str | None = None
    email: str | None = Field(default=None, max_length=200)


class KeyCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    user: str
    expires_in_days: float | None = Field(default=None, gt=0, le=36_500)


class InvitationCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    role: str
    plan: str | None = None
    email: str | None = Field(default=None, max_length=200)


class Decision(BaseModel):
    """Approving may change the role and set the plan of the invitation it makes."""

    model_config = ConfigDict(extra="forbid")

    role: str | None = None
    plan: str | None = None


class PriorityUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    priority: int = Field(ge=-1000, le=1000)


class ReportCreate(BaseModel):
    """POST /v1/reports: a red-team finding about a video."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    video_id: str = Field(min_length=1, max_length=40)
    category: Literal["misinformation", "deepfake", "bypass", "other"]
    severity: Literal["low", "medium", "high", "critical"] = "medium"
    description: str = Field(min_length=10, max_length=10000)
