"""OpenReel's settings: one YAML file over built-in defaults, with `OPENREEL_*` env overrides.

Every field has a default, so a config file sets only what it changes. Environment variables
win over the file: `OPENREEL_DATA_DIR`, `OPENREEL_DEFAULT_MODEL`, and nested fields with a
double underscore (`OPENREEL_LIMITS__MAX_SECONDS=30`). Built once per process and passed down.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    SecretStr,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

from pipeline.builtins import BUILTIN_MODELS, builtin_config
from pipeline.config import EncodeOptions, ModelConfig, VisibleWatermarkOptions
from pipeline.errors import UnknownModelError
from pipeline.tiny import default_cache_dir
from recaption.config import RecaptionConfig
from service.moderation.config import ModerationSettings

EXAMPLE_WATERMARK_KEY = "openreel-example-watermark-key-for-development-only"


class ConfigError(Exception):
    """A config file cannot be read or is not valid; the message is one line."""


class LimitsSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    max_seconds: float = Field(default=60.0, gt=0, le=60)
    """Longest clip anyone may ask for, in seconds (the product's cap is one minute)."""
    max_prompt_chars: int = Field(default=4000, ge=1)


class DatabaseSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    url: str | None = None
    """SQLAlchemy URL. None: SQLite (WAL) at DATA_DIR/openreel.db. PostgreSQL:
    postgresql+psycopg://user:password@host:5432/dbname."""
    pool_size: int = Field(default=10, ge=1)
    """Connections per process (PostgreSQL)."""


class S3Settings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    bucket: str = ""
    prefix: str = "openreel/"
    endpoint_url: str | None = None
    """None for AWS S3; the URL of MinIO or another S3-compatible store otherwise."""
    region: str | None = None
    access_key_env: str = "AWS_ACCESS_KEY_ID"
    secret_key_env: str = "AWS_SECRET_ACCESS_KEY"


class StorageSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    backend: Literal["local", "s3"] = "local"
    local_dir: Path | None = None
    """Where outputs go with the local backend; None: DATA_DIR/outputs."""
    s3: S3Settings = Field(default_factory=S3Settings)
    retention_hours: float = Field(default=24.0, gt=0)
    """Outputs are kept this long after completion (`expires_at`); the janitor then deletes them."""

    @model_validator(mode="after")
    def _s3_needs_a_bucket(self) -> StorageSettings:
        if self.backend == "s3" and not self.s3.bucket:
            raise ValueError("storage.s3.bucket is required with the s3 backend")
        return self


class ServerSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=0, le=65535)
    embedded_workers: int = Field(default=1, ge=0, le=8)
    """Workers inside `openreel serve`; 0 for API-only replicas beside `openreel worker` hosts."""
    janitor_interval_seconds: float = Field(default=30.0, gt=0)


class ApiSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    models: list[str] | None = None
    """Models /v1/videos accepts; None: the default model (and, when it is a built-in model,
    the other built-in models)."""
    aliases: dict[str, str] = Field(
        default_factory=lambda: {"sora-2": "default", "sora-2-pro": "default"}
    )
    """Other names for models, so unmodified OpenAI clients work; `default` is default_model."""
    poll_after_ms: int = Field(default=1000, ge=100)
    """Sent as openai-poll-after-ms on unfinished videos: how often clients should poll."""
    idempotency_hours: float = Field(default=24.0, gt=0)
    list_limit_max: int = Field(default=100, ge=1)
    max_request_bytes: int = Field(default=20_000_000, ge=1024)
    """Largest request body: uploaded images and videos included."""
    input_url_hosts: list[str] = Field(default_factory=list)
    """Hosts input_reference[image_url] may fetch an https image from; empty: data: URLs and
    uploads only (the service fetches nothing a caller names)."""
    events_poll_ms: int = Field(default=250, ge=20)
    """How often an event stream (/v1/videos/{id}/events) reads its video from the database,
    which a worker on any host writes to."""
    events_heartbeat_seconds: float = Field(default=15.0, gt=0)
    """A comment line this often on a stream with nothing new, so proxies keep it open."""
    max_event_streams_per_user: int = Field(default=4, ge=1)
    """Event streams one user may hold open at once (on this server process); more: 429."""


class WorkerSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    models: list[str] | None = None
    """Models this worker renders; None: every model the API accepts. One is loaded at a time."""
    poll_seconds: float = Field(default=0.5, gt=0)
    """How often an idle worker looks for work (it is also woken at once by the API in the
    same process)."""
    lease_seconds: float = Field(default=60.0, gt=0)
    """A claimed job belongs to its worker this long past the last heartbeat; after that the
    reaper gives it to another worker."""
    heartbeat_seconds: float = Field(default=5.0, gt=0)
    max_attempts: int = Field(default=2, ge=1)
    """Claims per job: past this, a job whose worker died fails with code worker_lost, and
    one that met a storage fault fails with code storage_unavailable."""
    storage_retry_seconds: float = Field(default=30.0, ge=0)
    """A job that met a storage fault (full, read-only, unreachable) goes back to the queue
    for its next attempt after this long, doubled at each further attempt."""
    progress_seconds: float = Field(default=0.5, ge=0)
    """Least time between two progress writes of one job."""
    shutdown_grace_seconds: float = Field(default=30.0, ge=0)
    """On SIGTERM, a running job may finish for this long; then it goes back to the queue."""

    @model_validator(mode="after")
    def _heartbeat_within_lease(self) -> WorkerSettings:
        if self.heartbeat_seconds * 2 > self.lease_seconds:
            raise ValueError("heartbeat_seconds must be at most half of lease_seconds")
        return self


class WatermarkSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    visible: VisibleWatermarkOptions = Field(default_factory=VisibleWatermarkOptions)
    """The label on every frame; no role can turn it off."""
    key: SecretStr = SecretStr(EXAMPLE_WATERMARK_KEY)
    """Secret of the invisible watermark (at least 16 characters); set it with
    OPENREEL_WATERMARK__KEY. The example key is refused outside development mode. Changing
    it makes earlier clips' marks unreadable: keep old keys in old_keys."""
    old_keys: list[SecretStr] = Field(default_factory=list)
    """Earlier keys, still tried by verify."""
    strength: float = Field(default=3.0, ge=1.0, le=8.0)
    """Amplitude of the invisible mark in 8-bit levels: 3 is invisible on natural video and
    survives CRF 28, halving and a 10 % crop; lower is weaker."""
    rivagan: Literal["off", "auto", "on"] = "off"
    """A second invisible layer (RivaGAN, 32 bits; needs the rivagan extra: onnxruntime and
    invisible-watermark). About 1.4 s per frame on a CPU core, so off by default; auto: on
    where onnxruntime is installed; on: refuse to start without it."""
    rivagan_every: int = Field(default=1, ge=1)
    """Mark every n-th frame with RivaGAN (frames between stay as they are)."""

    @field_validator("key")
    @classmethod
    def _long_enough(cls, key: SecretStr) -> SecretStr:
        if len(key.get_secret_value()) < 16:
            raise ValueError("the watermark key needs at least 16 characters")
        return key


class ProvenanceSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    organization: str = "OpenReel"
    """Named in the certificates the service makes itself."""
    certificate_chain: Path | None = None
    """PEM chain (signing certificate first) to sign C2PA manifests with. None: the service
    makes a root and a signing certificate in DATA_DIR/provenance on first start."""
    private_key: Path | None = None
    """PEM private key of the signing certificate (with certificate_chain)."""
    root_certificate: Path | None = None
    """PEM root the chain ends in: served at /v1/provenance/root.pem and trusted by verify.
    None with a supplied chain: the chain's last certificate."""

    @model_validator(mode="after")
    def _chain_and_key_together(self) -> ProvenanceSettings:
        if (self.certificate_chain is None) != (self.private_key is None):
            raise ValueError("certificate_chain and private_key go together")
        return self


class VerifySettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    max_upload_bytes: int = Field(default=200_000_000, ge=1024)
    """Largest file /v1/verify accepts."""
    max_hash_distance: float = Field(default=10.0, gt=0, le=32)
    """Perceptual-hash match: mean bits of 64 apart; re-encodes and resizes stay under 7,
    crops under 17 at the index's own crops, unrelated clips over 16."""


PERMISSIONS = ("verify", "report", "see_all_jobs", "administer")
"""verify: check clips at /v1/verify. report: file red-team reports. see_all_jobs: read
every user's jobs except confidential ones (technical audit). administer: everything under
/v1/admin, every job included."""


class ExportPolicy(BaseModel):
    model_config = ConfigDict(extra="forbid")

    download: bool = True
    """May download the files of their own videos."""
    confidential: bool = False
    """Their videos are visible to them and to administrators only."""
    retention_days: float | None = Field(default=None, gt=0)
    """How long their outputs are kept; None: storage.retention_hours."""


class RoleSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    description: str = ""
    priority: int = 0
    """Queue priority: higher is served first."""
    allowed_models: list[str] = Field(default_factory=lambda: ["*"])
    """Model names (or api.aliases) the role may use; "*" for all the API serves."""
    max_seconds: float = Field(default=60.0, gt=0, le=60)
    """Longest clip; the global limits.max_seconds applies too."""
    max_pixels: int | None = Field(default=None, ge=1)
    """Largest width x height; None: any size the model offers."""
    max_steps: int | None = Field(default=None, ge=1)
    """Most denoising steps a request may ask for (defaults above it are lowered to it)."""
    max_pending_jobs: int = Field(default=4, ge=1)
    """Jobs a user may have queued or running at once; more is refused with 429."""
    max_running_jobs: int = Field(default=1, ge=1)
    """Jobs of one user rendered at once, so that one user cannot take every worker."""
    quota_seconds_per_day: float | None = Field(default=None, gt=0)
    """Video-seconds a user may make per UTC day; None: no daily quota."""
    quota_seconds_per_month: float | None = Field(default=None, gt=0)
    """Video-seconds per UTC calendar month; None: only the plan's quota."""
    moderation: Literal["enforce", "flag"] = "enforce"
    """enforce: blocked prompts are refused. flag: they run, recorded and confidential
    (red teaming)."""
    export: ExportPolicy = Field(default_factory=ExportPolicy)
    permissions: list[Literal["verify", "report", "see_all_jobs", "administer"]] = Field(
        default_factory=list
    )

    def allows_model(self, name: str) -> bool:
        return "*" in self.allowed_models or name in self.allowed_models

    def can(self, permission: str) -> bool:
        return permission in self.permissions or "administer" in self.permissions


DEFAULT_ROLES = {
    "red_teamer": RoleSettings(
        description="priority access, abuse detection, confidential reports",
        priority=100,
        max_seconds=60,
        max_pending_jobs=10,
        max_running_jobs=2,
        quota_seconds_per_day=1800,
        moderation="flag",
        export=ExportPolicy(download=True, confidential=True, retention_days=30),
        permissions=["verify", "report"],
    ),
    "researcher": RoleSettings(
        description="restricted access, technical audit, no model distribution",
        priority=50,
        max_seconds=10,
        max_pixels=832 * 480,
        max_pending_jobs=4,
        quota_seconds_per_day=300,
        export=ExportPolicy(download=True, retention_days=7),
        permissions=["verify", "report", "see_all_jobs"],
    ),
    "artist": RoleSettings(
        description="collaborative access, creative evaluation, controlled use",
        priority=10,
        max_seconds=10,
        max_pending_jobs=4,
        quota_seconds_per_day=300,
        export=ExportPolicy(download=True, retention_days=7),
        permissions=["verify"],
    ),
    "filmmaker": RoleSettings(
        description="project access, creative tests, demo use",
        priority=10,
        max_seconds=60,
        max_pending_jobs=6,
        max_running_jobs=2,
        quota_seconds_per_day=900,
        export=ExportPolicy(download=True, retention_days=30),
        permissions=["verify"],
    ),
    "operator": RoleSettings(
        description="runs the service",
        priority=50,
        max_pending_jobs=20,
        max_running_jobs=4,
        permissions=["verify", "report", "see_all_jobs", "administer"],
    ),
}


class PlanSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    kind: Literal["free", "subscription", "per_second", "per_video"]
    description: str = ""
    monthly_seconds: float | None = Field(default=None, gt=0)
    """Video-seconds included per UTC month (free and subscription); None: no plan quota."""
    monthly_fee: float = Field(default=0.0, ge=0)
    price_per_second: float = Field(default=0.0, ge=0)
    price_per_video: float = Field(default=0.0, ge=0)


DEFAULT_PLANS = {
    "free": PlanSettings(kind="free", description="a small monthly allowance", monthly_seconds=600),
    "subscription": PlanSettings(
        kind="subscription",
        description="$49 a month, 30 minutes included",
        monthly_fee=49.0,
        monthly_seconds=1800,
    ),  # fmt: skip
    "per_second": PlanSettings(
        kind="per_second", description="pay per generated second", price_per_second=0.10
    ),
    "per_video": PlanSettings(kind="per_video", description="pay per clip", price_per_video=0.50),
}


class AccessSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    default_plan: str = "free"
    currency: str = "USD"
    invitation_days: float = Field(default=7.0, gt=0)
    """How long an invitation code stays valid."""
    access_requests_per_hour: int = Field(default=5, ge=1)
    """Access requests accepted per client address per hour."""
    max_queued_jobs: int = Field(default=1000, ge=1)
    """All users together: more queued jobs than this and new ones are refused (429)."""


class WebhookSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    enabled: bool = True
    """Whether `openreel serve` delivers events; endpoints can be managed either way."""
    allowed_hosts: list[str] = Field(default_factory=list)
    """Hosts (names, addresses or networks such as 10.0.0.0/8) that endpoints may name
    although they are private, loopback or link-local, and that may use plain http. Every
    other destination must be https on a public address, checked again at each delivery."""
    timeout_seconds: float = Field(default=10.0, gt=0, le=60)
    """Each attempt: to connect, and between bytes of the receiver's answer."""
    retry_base_seconds: float = Field(default=5.0, gt=0)
    """The wait after the first failed attempt; it doubles with each failure after it."""
    retry_max_seconds: float = Field(default=3600.0, gt=0)
    """The longest wait between two attempts."""
    retry_for_hours: float = Field(default=72.0, ge=24)
    """A delivery is retried this long after its event before it is given up."""
    poll_seconds: float = Field(default=1.0, gt=0)
    """How often the delivery loop looks for finished videos and due deliveries."""
    concurrency: int = Field(default=4, ge=1, le=64)
    """Deliveries attempted at once, so that one slow receiver does not hold up the rest."""
    max_endpoints_per_user: int = Field(default=10, ge=1)


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="OPENREEL_", env_nested_delimiter="__", extra="forbid"
    )

    default_model: str = "toy-shapes"
    """The model a request gets when it names none: toy-shapes, trained here on synthetic
    clips, follows prompts offline on a CPU."""
    models: dict[str, ModelConfig] = Field(default_factory=dict)
    """Models by name. The built-in models (toy-shapes, tiny-wan, tiny-wan-i2v,
    tiny-skyreels-df, tiny-ltx, tiny-cogvideox) are always available; an entry of the same
    name here overrides their settings."""
    limits: LimitsSettings = Field(default_factory=LimitsSettings)
    database: DatabaseSettings = Field(default_factory=DatabaseSettings)
    storage: StorageSettings = Field(default_factory=StorageSettings)
    server: ServerSettings = Field(default_factory=ServerSettings)
    api: ApiSettings = Field(default_factory=ApiSettings)
    worker: WorkerSettings = Field(default_factory=WorkerSettings)
    roles: dict[str, RoleSettings] = Field(default_factory=lambda: dict(DEFAULT_ROLES))
    """Roles of the tester programme; each user has one. Operators may add roles."""
    plans: dict[str, PlanSettings] = Field(default_factory=lambda: dict(DEFAULT_PLANS))
    access: AccessSettings = Field(default_factory=AccessSettings)
    recaption: RecaptionConfig = Field(default_factory=RecaptionConfig)
    encode: EncodeOptions = Field(default_factory=EncodeOptions)
    mode: Literal["development", "production"] = "development"
    """production refuses development shortcuts, such as the example watermark key."""
    watermark: WatermarkSettings = Field(default_factory=WatermarkSettings)
    provenance: ProvenanceSettings = Field(default_factory=ProvenanceSettings)
    verify: VerifySettings = Field(default_factory=VerifySettings)
    moderation: ModerationSettings = Field(default_factory=ModerationSettings)
    webhooks: WebhookSettings = Field(default_factory=WebhookSettings)
    data_dir: Path = Path("openreel-data")
    """Database, outputs and keys of the service."""
    cache_dir: Path = Field(default_factory=default_cache_dir)
    """Built-in tiny models are built here once."""

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        # The environment overrides the config file (passed in as init values).
        return env_settings, init_settings

    @field_validator("data_dir", "cache_dir")
    @classmethod
    def _expand_home(cls, path: Path) -> Path:
        return path.expanduser()

    @model_validator(mode="after")
    def _models_exist(self) -> Settings:
        known = self.model_names()
        if self.default_model not in known:
            raise ValueError(
                f"default_model {self.default_model!r} is neither in models nor built in; "
                f"known models: {', '.join(known)}"
            )
        for where, names in (
            ("api.models", self.api.models),
            ("worker.models", self.worker.models),
        ):
            for name in names or []:
                if name not in known:
                    raise ValueError(f"{where}: unknown model {name!r}; known: {', '.join(known)}")
        for name, model in self.models.items():
            problem = model.provenance_problem()
            if problem:
                raise ValueError(f"models.{name}: {problem}")
        for alias, target in self.api.aliases.items():
            if target != "default" and target not in self.served_models():
                raise ValueError(f"api.aliases.{alias}: {target!r} is not in api.models")
        if self.access.default_plan not in self.plans:
            raise ValueError(f"access.default_plan {self.access.default_plan!r} is not in plans")
        if not any(role.can("administer") for role in self.roles.values()):
            raise ValueError("roles: at least one role needs the administer permission")
        if (
            self.mode != "development"
            and self.watermark.key.get_secret_value() == EXAMPLE_WATERMARK_KEY
        ):
            raise ValueError(
                "watermark.key: the example key is for development mode only; set a secret "
                "of your own (OPENREEL_WATERMARK__KEY)"
            )
        return self

    def served_models(self) -> list[str]:
        """Models the API accepts: `api.models`; or else the default model, and where that is
        a built-in one (the embedded default) the other built-in and configured models too,
        so that a first run can try long clips, image to video and edits offline."""
        if self.api.models:
            return list(self.api.models)
        if self.default_model in BUILTIN_MODELS:
            others = dict.fromkeys([*BUILTIN_MODELS, *self.models])
            return [self.default_model, *(m for m in others if m != self.default_model)]
        return [self.default_model]

    def worker_models(self) -> list[str]:
        """Models a worker of these settings renders."""
        return list(self.worker.models or self.served_models())

    def resolve_served_model(self, name: str | None) -> tuple[str, ModelConfig]:
        """A model name or alias from a request -> (model name, config); UnknownModelError
        names what is accepted."""
        requested = name or self.default_model
        target = self.api.aliases.get(requested, requested)
        if target == "default":
            target = self.default_model
        if target not in self.served_models():
            accepted = sorted({*self.served_models(), *self.api.aliases})
            raise UnknownModelError(requested, accepted)
        return self.resolve_model(target)

    def effective(self) -> dict:
        """The settings as JSON for people to read (the admin API, `config check`): secrets
        masked, wherever they are (SecretStr fields, a password in any URL)."""
        return _masked(self.model_dump(mode="json"))

    @property
    def database_url(self) -> str:
        return self.database.url or f"sqlite:///{self.data_dir / 'openreel.db'}"

    @property
    def outputs_dir(self) -> Path:
        return self.storage.local_dir or self.data_dir / "outputs"

    def model_names(self) -> list[str]:
        return sorted(set(self.models) | set(BUILTIN_MODELS))

    def resolve_model(self, name: str | None = None) -> tuple[str, ModelConfig]:
        """(name, config) of the model `name`, or of the default model when None."""
        name = name or self.default_model
        if name in self.models:
            return name, self.models[name]
        if name in BUILTIN_MODELS:
            return name, builtin_config(name)
        raise UnknownModelError(name, self.model_names())


def _merged_by_name(defaults: dict[str, BaseModel], given: Any) -> Any:
    """Roles and plans named in a file change only the fields they set, add new ones, and
    `null` removes one: a file need not repeat the entries it keeps."""
    if not isinstance(given, dict):
        return given  # not a mapping: let validation say so
    merged: dict[str, Any] = {name: entry.model_dump() for name, entry in defaults.items()}
    for name, entry in given.items():
        if entry is None:
            merged.pop(name, None)
        elif isinstance(entry, dict) and isinstance(merged.get(name), dict):
            merged[name] = _deep_merge(merged[name], entry)
        else:
            merged[name] = entry
    return merged


def _deep_merge(base: dict, changes: dict) -> dict:
    out = dict(base)
    for key, value in changes.items():
        out[key] = (
            _deep_merge(out[key], value)
            if isinstance(value, dict) and isinstance(out.get(key), dict)
            else value
        )
    return out


def load_settings(path: str | Path | None = None) -> Settings:
    """Settings from the YAML file at `path` (or the defaults alone) and the environment."""
    where = f"config {path}" if path is not None else "settings"
    data = read_config_file(path) if path is not None else {}
    if "roles" in data:
        data["roles"] = _merged_by_name(DEFAULT_ROLES, data["roles"])
    if "plans" in data:
        data["plans"] = _merged_by_name(DEFAULT_PLANS, data["plans"])
    try:
        return Settings(**data)
    except ValidationError as exc:
        raise ConfigError(f"{where}: {describe_validation_error(exc)}") from None


def read_config_file(path: str | Path) -> dict[str, Any]:
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        raise ConfigError(f"config {path}: cannot read it: {reason}") from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        at = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(exc, "problem", None) or "invalid YAML"
        raise ConfigError(f"config {path}: not valid YAML{at}: {problem}") from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ConfigError(
            f"config {path}: must be a mapping of settings, not a {type(data).__name__}"
        )
    return data


def describe_validation_error(exc: ValidationError) -> str:
    """A pydantic error as one line: `where: what; where: what`."""
    parts = []
    for error in exc.errors():
        where = ".".join(str(part) for part in error["loc"]) or "config"
        message = error["msg"].removeprefix("Value error, ")
        if error["type"] == "extra_forbidden":
            message = "unknown setting"
        parts.append(f"{where}: {message}")
    return "; ".join(parts)


_URL_PASSWORD = re.compile(r"(?P<head>[a-z][a-z0-9+.-]*://[^/:@\s]*:)[^@/\s]*(?=@)", re.I)
_SECRET_NAMES = re.compile(r"(password|secret|token|api_key)$", re.I)
MASK = "**********"


def _masked(value: Any, name: str = "") -> Any:
    if isinstance(value, dict):
        return {key: _masked(item, str(key)) for key, item in value.items()}
    if isinstance(value, list):
        return [_masked(item, name) for item in value]
    if isinstance(value, str):
        if _SECRET_NAMES.search(name) and value:
            return MASK
        return _URL_PASSWORD.sub(lambda match: match["head"] + MASK, value)
    return value
