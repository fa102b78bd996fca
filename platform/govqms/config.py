"""Configuration read from the environment.

Every setting a deployment may change is a ``GOVQMS_*`` variable; README lists them.
"""
from __future__ import annotations

import os
import secrets
from pathlib import Path

#: The checkout this package runs from, when it runs from one (editable install or tests).
SOURCE_ROOT = Path(__file__).resolve().parents[2]


class ConfigError(RuntimeError):
    """The environment does not describe a runnable deployment."""


def default_instance_path() -> Path:
    override = os.environ.get("GOVQMS_INSTANCE_PATH")
    if override:
        return Path(override).resolve()
    return SOURCE_ROOT / "instance"


def default_migrations_dir() -> Path:
    override = os.environ.get("GOVQMS_MIGRATIONS_DIR")
    return Path(override).resolve() if override else SOURCE_ROOT / "migrations"


def _secret_key(env: str, instance_path: Path) -> str:
    key = os.environ.get("GOVQMS_SECRET_KEY")
    if key:
        return key
    if env == "production":
        raise ConfigError("GOVQMS_SECRET_KEY must be set when GOVQMS_ENV=production")
    # Development and tests: one random key, kept so sessions survive restarts.
    key_file = instance_path / "secret_key"
    if key_file.exists():
        return key_file.read_text().strip()
    instance_path.mkdir(parents=True, exist_ok=True)
    key = secrets.token_hex(32)
    key_file.write_text(key)
    key_file.chmod(0o600)
    return key


def _int(name: str, default: int) -> int:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    try:
        return int(raw)
    except ValueError as exc:
        raise ConfigError(f"{name} must be a whole number, got {raw!r}") from exc


def _ints(name: str, default: str) -> tuple[int, ...]:
    raw = os.environ.get(name) or default
    try:
        values = tuple(int(part) for part in raw.split(",") if part.strip())
    except ValueError as exc:
        raise ConfigError(f"{name} must be whole numbers separated by commas, got {raw!r}") from exc
    if any(value < 0 for value in values):
        raise ConfigError(f"{name} must not be negative, got {raw!r}")
    return values


def log_format(env: str) -> str:
    """``GOVQMS_LOG_FORMAT``: ``json`` lines (the production default, for the log collector) or ``text``."""
    chosen = os.environ.get("GOVQMS_LOG_FORMAT") or ("json" if env == "production" else "text")
    if chosen not in {"json", "text"}:
        raise ConfigError(f"GOVQMS_LOG_FORMAT must be json or text, got {chosen!r}")
    return chosen


def engine_options(database_url: str) -> dict:
    """``GOVQMS_DATABASE_POOLER=pgbouncer``: PostgreSQL behind pgbouncer in transaction mode, where a
    server-side prepared statement may land on another server connection: psycopg prepares none.
    (The tenant scope is a transaction-local ``set_config``, so it needs nothing more.)"""
    pooler = os.environ.get("GOVQMS_DATABASE_POOLER") or "none"
    if pooler not in {"none", "pgbouncer"}:
        raise ConfigError(f"GOVQMS_DATABASE_POOLER must be none or pgbouncer, got {pooler!r}")
    options: dict = {"pool_pre_ping": True}
    if pooler == "pgbouncer" and database_url.startswith("postgresql"):
        options["connect_args"] = {"prepare_threshold": None}
    return options


def _flag(name: str) -> bool:
    raw = (os.environ.get(name) or "").strip().lower()
    if raw in {"", "0", "false", "no", "off"}:
        return False
    if raw in {"1", "true", "yes", "on"}:
        return True
    raise ConfigError(f"{name} must be true or false, got {raw!r}")


def oidc_settings(production: bool) -> dict:
    """Sign-in through an OpenID Connect provider (``govqms.accounts.oidc``), on when ``GOVQMS_OIDC_ISSUER``
    is set. The provider's metadata is read from the issuer's ``/.well-known/openid-configuration``."""
    issuer = os.environ.get("GOVQMS_OIDC_ISSUER") or None
    client_id = os.environ.get("GOVQMS_OIDC_CLIENT_ID") or None
    if issuer and not client_id:
        raise ConfigError("GOVQMS_OIDC_CLIENT_ID must be set with GOVQMS_OIDC_ISSUER")
    if issuer and production and not issuer.startswith("https://"):
        raise ConfigError(f"GOVQMS_OIDC_ISSUER must be an https:// address in production, got {issuer!r}")
    return {
        "OIDC_ISSUER": issuer,
        "OIDC_CLIENT_ID": client_id,
        "OIDC_CLIENT_SECRET": os.environ.get("GOVQMS_OIDC_CLIENT_SECRET") or None,
        # The claim whose value is matched with an account's email
        "OIDC_CLAIM": os.environ.get("GOVQMS_OIDC_CLAIM") or "email",
        # The text of the sign-in button (the provider's name, as its users know it)
        "OIDC_LABEL": os.environ.get("GOVQMS_OIDC_LABEL") or None,
        # An invited account not taken up yet is linked (its invitation accepted) at its first sign-in
        "OIDC_AUTOLINK_INVITED": _flag("GOVQMS_OIDC_AUTOLINK_INVITED"),
        # A provider that does not answer within this many seconds is reported down
        "OIDC_TIMEOUT_SECONDS": _int("GOVQMS_OIDC_TIMEOUT_SECONDS", 5),
    }


def load_config(instance_path: Path) -> dict:
    env = os.environ.get("GOVQMS_ENV", "development")
    if env not in {"development", "production", "testing"}:
        raise ConfigError("GOVQMS_ENV must be development, production or testing")
    production = env == "production"
    database_url = os.environ.get("GOVQMS_DATABASE_URL") or f"sqlite:///{instance_path / 'govqms.db'}"
    if database_url.startswith("postgresql://"):
        database_url = "postgresql+psycopg://" + database_url.removeprefix("postgresql://")
    return {
        "GOVQMS_ENV": env,
        "LOG_FORMAT": log_format(env),
        "SECRET_KEY": _secret_key(env, instance_path),
        "SQLALCHEMY_DATABASE_URI": database_url,
        "SQLALCHEMY_ENGINE_OPTIONS": engine_options(database_url),
        "REDIS_URL": os.environ.get("GOVQMS_REDIS_URL") or None,
        "JOB_QUEUE": os.environ.get("GOVQMS_JOB_QUEUE", "govqms"),
        # A failed job is tried again after each of these delays (seconds): backoff, then it fails.
        "JOB_RETRY_DELAYS": _ints("GOVQMS_JOB_RETRY_DELAYS", "30,120,600"),
        # Finished jobs' files (exports, reports) are kept this many days.
        "JOB_RESULT_DAYS": _int("GOVQMS_JOB_RESULT_DAYS", 30),
        # Reminders go this many days before a due date, then on the day, then once overdue.
        "REMINDER_DAYS": _ints("GOVQMS_REMINDER_DAYS", "30,7,1"),
        "MIGRATIONS_DIR": str(default_migrations_dir()),
        "TENANTS_DIR": os.environ.get("GOVQMS_TENANTS_DIR") or str(SOURCE_ROOT / "tenants"),
        # Links in invitations and emails are built on this address.
        "BASE_URL": os.environ.get("GOVQMS_BASE_URL", "http://127.0.0.1:5000").rstrip("/"),
        # Webhooks may post over http to this machine's loopback (tests, a receiver beside the app)
        "WEBHOOKS_ALLOW_LOOPBACK": _flag("GOVQMS_WEBHOOKS_ALLOW_LOOPBACK"),
        "SMTP_URL": os.environ.get("GOVQMS_SMTP_URL") or None,
        "MAIL_FROM": os.environ.get("GOVQMS_MAIL_FROM", "GovQMS <no-reply@govqms.local>"),
        "INVITATION_DAYS": _int("GOVQMS_INVITATION_DAYS", 7),
        # A compliance check turns "due soon" this many days before its due date.
        "COMPLIANCE_DUE_SOON_DAYS": _int("GOVQMS_DUE_SOON_DAYS", 30),
        # Sessions and cookies
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_SECURE": production,
        "REMEMBER_COOKIE_HTTPONLY": True,
        "REMEMBER_COOKIE_SECURE": production,
        "REMEMBER_COOKIE_SAMESITE": "Lax",
        # A signed-in session ends after this many hours, or after this many minutes without a request
        "PERMANENT_SESSION_LIFETIME": _int("GOVQMS_SESSION_HOURS", 8) * 3600,
        "SESSION_IDLE_MINUTES": _int("GOVQMS_SESSION_IDLE_MINUTES", 60),
        # Two-factor sign-in is required of these kinds of account: "oversight", "operator" (comma-separated)
        "TWO_FACTOR_REQUIRED_FOR": tuple(k.strip() for k in os.environ.get("GOVQMS_2FA_REQUIRED_FOR", "").split(",")
                                         if k.strip()),
        "PREFERRED_URL_SCHEME": "https" if production else "http",
        "HSTS": production,
        # A request may carry a little more than one file of the largest size.
        "MAX_UPLOAD_BYTES": _int("GOVQMS_MAX_UPLOAD_MB", 25) * 1024 * 1024,
        "MAX_CONTENT_LENGTH": (_int("GOVQMS_MAX_UPLOAD_MB", 25) + 1) * 1024 * 1024,
        # Imported spreadsheets (core/spreadsheets.py): refused before they are unpacked beyond these.
        "IMPORT_MAX_UNCOMPRESSED_BYTES": _int("GOVQMS_IMPORT_MAX_UNCOMPRESSED_MB", 50) * 1024 * 1024,
        "IMPORT_MAX_ROWS": _int("GOVQMS_IMPORT_MAX_ROWS", 100_000),
        "STORAGE_DIR": os.environ.get("GOVQMS_STORAGE_DIR") or None,
        # Certificates trusted as roots of PDF signers' chains: a PEM/DER file or a directory of them.
        "TRUST_ANCHORS": os.environ.get("GOVQMS_TRUST_ANCHORS") or None,
        # Reverse proxies in front of the app whose X-Forwarded-For/-Proto are trusted.
        "TRUSTED_PROXIES": _int("GOVQMS_TRUSTED_PROXIES", 0),
        # Login throttling: failures counted per account and per address in a sliding window.
        "LOGIN_WINDOW_SECONDS": _int("GOVQMS_LOGIN_WINDOW_SECONDS", 15 * 60),
        "LOGIN_SLOW_AFTER": _int("GOVQMS_LOGIN_SLOW_AFTER", 5),
        "API_RATE_LIMIT": _int("GOVQMS_API_RATE_LIMIT", 120),
        "LOGIN_LOCK_AFTER": _int("GOVQMS_LOGIN_LOCK_AFTER", 10),
        "LOGIN_LOCK_SECONDS": _int("GOVQMS_LOGIN_LOCK_SECONDS", 15 * 60),
        "PASSWORD_HASH_METHOD": "scrypt",
        **oidc_settings(production),
        # Language
        "BABEL_DEFAULT_LOCALE": "vi",
        "BABEL_DEFAULT_TIMEZONE": "Asia/Ho_Chi_Minh",
        "LANGUAGES": ("vi", "en"),
        "BOOTSTRAP_SERVE_LOCAL": True,
        "PAGE_SIZE": 25,
        "WTF_CSRF_TIME_LIMIT": None,
    }
