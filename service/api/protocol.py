"""Request and response bodies of the Videos API, as OpenAI's SDK sends and reads them,
with OpenReel's additions (all optional for a client to read)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, field_validator

from service.domain.invitations import EMAIL_PATTERN
from service.jobs.outputs import OUTPUTS
from service.jobs.status import STATUSES

MAX_SEED = 2**63 - 1
"""The largest seed a database's 64-bit integer holds."""
MAX_STEPS = 10_000
"""Far past any model's max_steps (which refuse more, naming their own limit)."""

VideoStatus = Literal[STATUSES]
Variant = Literal[tuple(OUTPUTS)]


def _not_a_bool(value: Any) -> Any:
    # pydantic's lax mode reads true as 1; a number field takes numbers (or, in a form, text)
    if isinstance(value, bool):
        raise ValueError("must be a number, not true or false")
    return value


Int = Annotated[int, BeforeValidator(_not_a_bool)]
Float = Annotated[float, BeforeValidator(_not_a_bool)]
Prompt = Annotated[str, Field(min_length=1, pattern=r"\S")]
"""Text with at least one character that is not a space."""
SECONDS = {
    "anyOf": [
        {"type": "string", "pattern": r"^[1-9][0-9]{0,5}(\.[0-9]{1,3})?$"},
        {"type": "number", "minimum": 1, "maximum": 999_999},
        {"type": "null"},
    ],
    "description": 'Seconds of video, as the SDK sends them ("4") or a number.',
}
VIDEO_REFERENCE = {
    "type": "object",
    "properties": {
        "id": {"type": "string", "pattern": "^video_", "description": "One of the caller's videos."}
    },
    "required": ["id"],
    "additionalProperties": False,
}
IMAGE_REFERENCE = {
    "anyOf": [
        {
            "type": "object",
            "properties": {
                "image_url": {
                    "type": "string",
                    "pattern": "^data:image/(png|jpeg|webp);base64,",
                    "description": "A data: URL (or an https URL of an allowed host).",
                }
            },
            "required": ["image_url"],
            "additionalProperties": False,
        },
        {"type": "null"},
    ]
}


class CreateVideoRequest(BaseModel):
    """POST /v1/videos, as JSON or multipart form fields."""

    model_config = ConfigDict(extra="forbid")

    prompt: Prompt
    model: str | None = None
    seconds: str | None = Field(default=None, json_schema_extra=SECONDS)
    """A number of seconds; the SDK sends a string ("4"), JSON clients may send a number."""
    size: str | None = None
    input_reference: Any = Field(default=None, json_schema_extra=IMAGE_REFERENCE)
    # OpenReel additions
    seed: Int | None = Field(default=None, ge=0, le=MAX_SEED)
    steps: Int | None = Field(default=None, ge=1, le=MAX_STEPS)
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

    prompt: Prompt
    video: Any = Field(json_schema_extra=VIDEO_REFERENCE)
    seconds: str | None = Field(default=None, json_schema_extra=SECONDS)
    # OpenReel additions
    model: str | None = None
    size: str | None = None
    seed: Int | None = Field(default=None, ge=0, le=MAX_SEED)
    steps: Int | None = Field(default=None, ge=1, le=MAX_STEPS)
    negative_prompt: str | None = None
    recaption: Literal["on", "off", "auto"] | None = None

    _seconds_as_text = field_validator("seconds", mode="before")(
        CreateVideoRequest._seconds_as_text.__func__  # type: ignore[attr-defined]
    )


class EditRequest(BaseModel):
    """POST /v1/videos/edits: video to video on the source clip."""

    model_config = ConfigDict(extra="forbid")

    prompt: Prompt
    video: Any = Field(json_schema_extra=VIDEO_REFERENCE)
    # OpenReel additions
    model: str | None = None
    strength: Float | None = Field(default=None, gt=0, le=1)
    """How much of the source is re-rendered; default: the model's edit_strength."""
    seed: Int | None = Field(default=None, ge=0, le=MAX_SEED)
    steps: Int | None = Field(default=None, ge=1, le=MAX_STEPS)
    negative_prompt: str | None = None
    recaption: Literal["on", "off", "auto"] | None = None


class RemixRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    prompt: Prompt


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
    stage: str | None = None
    """While in progress: what the worker is doing now (starting, recaption, denoise,
    decode, encode, store ...)."""
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


class Readiness(BaseModel):
    """GET /readyz, ready (200) or not (503): each check's "ok", or what failed."""

    status: Literal["ready", "not ready"]
    checks: dict[str, str]


class AccessRequestCreate(BaseModel):
    """POST /v1/access-requests: anyone may ask to join the programme."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=100)
    email: str = Field(min_length=3, max_length=200, pattern=EMAIL_PATTERN)
    wanted_role: str = Field(min_length=1, max_length=40)
    motivation: str = Field(min_length=10, max_length=4000)


UserName = Annotated[str, Field(min_length=1, max_length=100, pattern=r"^\S+$")]
"""One word."""


class RedeemRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: UserName
    """The user name to create (one word)."""


class UserCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: UserName
    role: str
    plan: str | None = Field(default=None, min_length=1)
    email: str | None = Field(default=None, max_length=200, pattern=EMAIL_PATTERN)


class KeyCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    user: str
    expires_in_days: Float | None = Field(default=None, gt=0, le=36_500)


class InvitationCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    role: str
    plan: str | None = Field(default=None, min_length=1)
    email: str | None = Field(default=None, max_length=200, pattern=EMAIL_PATTERN)


class Decision(BaseModel):
    """Approving may change the role and set the plan of the invitation it makes."""

    model_config = ConfigDict(extra="forbid")

    role: str | None = None
    plan: str | None = Field(default=None, min_length=1)


class PriorityUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    priority: Int = Field(ge=-1000, le=1000)


class ReportCreate(BaseModel):
    """POST /v1/reports: a red-team finding about a video."""

    model_config = ConfigDict(extra="forbid")

    video_id: str = Field(min_length=1, max_length=40)
    category: Literal["misinformation", "deepfake", "bypass", "other"]
    severity: Literal["low", "medium", "high", "critical"] = "medium"
    description: str = Field(min_length=10, max_length=10000)


class Model(BaseModel):
    """A model, as OpenAI's /v1/models shows one, with what it accepts for the caller."""

    id: str
    object: Literal["model"] = "model"
    created: int
    owned_by: str = "openreel"
    # OpenReel additions
    family: str
    sizes: list[str]
    """Sizes the caller may ask for (the model's, within the role's pixel limit)."""
    default_size: str
    default_seconds: float
    max_seconds: float
    """Longest clip the caller may ask for."""
    modes: list[Literal["text", "image", "extend", "edit"]]
    """text; image (input_reference); extend (long clips, /extensions); edit (/edits)."""
    steps: int
    max_steps: int
    fps: int
    license: str | None = None
    aliases: list[str]
    """Other names the API accepts for it (OpenAI's model names)."""


class ModelList(BaseModel):
    object: Literal["list"] = "list"
    data: list[Model]


class WebhookEndpointCreate(BaseModel):
    """POST /v1/webhook_endpoints (OpenAI's shape; `scope` is OpenReel's)."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=200)
    url: str = Field(min_length=1, max_length=2000)
    event_types: list[str] = Field(min_length=1, max_length=10)
    scope: Literal["own", "all"] = "own"
    """own: the caller's videos; all: every user's (administrators only)."""


class WebhookEndpointUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str | None = Field(default=None, min_length=1, max_length=200)
    url: str | None = Field(default=None, min_length=1, max_length=2000)
    event_types: list[str] | None = Field(default=None, min_length=1, max_length=10)


class WebhookSecretRotation(BaseModel):
    model_config = ConfigDict(extra="forbid")

    keep_old_secret_active_for_24_hours: bool = False


class WebhookTest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    event_type: str = Field(min_length=1, max_length=100)


class WebhookOwner(BaseModel):
    id: str
    name: str | None


class WebhookEndpoint(BaseModel):
    id: str
    object: Literal["webhook_endpoint"] = "webhook_endpoint"
    name: str
    url: str
    event_types: list[str]
    signing_secret_hint: str
    created_at: int
    updated_at: int
    # OpenReel additions
    scope: Literal["own", "all"]
    owner: WebhookOwner


class WebhookEndpointWithSecret(WebhookEndpoint):
    signing_secret: str
    """Shown once: on create and on rotation."""


class WebhookEndpointList(BaseModel):
    object: Literal["list"] = "list"
    data: list[WebhookEndpoint]
    first_id: str | None
    last_id: str | None
    has_more: bool


class WebhookEndpointDeleted(BaseModel):
    id: str
    object: Literal["webhook_endpoint.deleted"] = "webhook_endpoint.deleted"
    deleted: bool = True


class WebhookTestResult(BaseModel):
    object: Literal["webhook_endpoint.test"] = "webhook_endpoint.test"
    webhook_endpoint_id: str
    event_type: str
    status_code: int
    success: Literal[True] = True
    delivery_id: str
    """OpenReel addition: the test's entry in the endpoint's delivery log."""


class WebhookAttempt(BaseModel):
    number: int
    at: int
    status_code: int | None
    error: str | None
    response: str | None
    """The first bytes of the receiver's answer."""
    duration_ms: int


class WebhookDelivery(BaseModel):
    id: str
    object: Literal["webhook_endpoint.delivery"] = "webhook_endpoint.delivery"
    event_id: str
    event_type: str
    video_id: str
    test: bool
    status: Literal["pending", "delivered", "failed"]
    attempts: list[WebhookAttempt]
    next_attempt_at: int | None
    last_status_code: int | None
    last_error: str | None
    created_at: int
    finished_at: int | None


class WebhookDeliveryList(BaseModel):
    object: Literal["list"] = "list"
    data: list[WebhookDelivery]
    first_id: str | None
    last_id: str | None
    has_more: bool


class WebhookEventTypeList(BaseModel):
    object: Literal["list"] = "list"
    data: list[str]
