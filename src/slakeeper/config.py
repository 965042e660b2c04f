"""Settings, read from ``SLAKEEPER_*`` environment variables (and nowhere else)."""

from __future__ import annotations

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    """What an operator can set. Defaults run the embedded server on a SQLite file."""

    model_config = SettingsConfigDict(env_prefix="SLAKEEPER_", extra="ignore")

    database_url: str = Field(
        "sqlite:///./slakeeper.db",
        description="SQLAlchemy URL: sqlite:///PATH (embedded) or postgresql+psycopg://...",
    )
    host: str = Field("127.0.0.1", description="Address `slakeeper serve` listens on.")
    port: int = Field(8000, ge=1, le=65535, description="Port `slakeeper serve` listens on.")
    rate_limit_per_minute: int = Field(
        600, ge=1, description="Requests per minute allowed per API key (then 429)."
    )
    sqlite_busy_timeout_ms: int = Field(
        5000, ge=0, description="How long a SQLite writer waits for the lock."
    )
    public_url: str | None = Field(None, description="The URL users reach the server at.")
    webhook_url: str | None = Field(
        None, description="Where the worker POSTs notifications (at-risk and breached clocks)."
    )
    webhook_secret: str | None = Field(
        None, description="Standard Webhooks secret (`whsec_...`) that signs every webhook."
    )
    slack_webhook_url: str | None = Field(
        None, description="A Slack-compatible incoming webhook for notifications."
    )
    smtp_host: str | None = Field(None, description="SMTP server for email notifications.")
    smtp_port: int = Field(25, ge=1, le=65535, description="SMTP port.")
    smtp_from: str = Field("slakeeper@localhost", description="Sender of notification email.")
    notify_email: str | None = Field(
        None, description="Comma-separated recipients of notification email."
    )
    secret_key: SecretStr | None = Field(
        None,
        description="Signs the dashboard's session cookies (use 32+ random characters). Unset: a "
        "random key per process, so sessions end at a restart and are not shared by replicas.",
    )
