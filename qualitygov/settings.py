"""QualityGov settings, read from the environment (see README, "Configuration").

Development defaults just work (SQLite under var/, DEBUG on); production must give SECRET_KEY,
DATABASE_URL and ALLOWED_HOSTS. Every value is parsed strictly by ``qualitygov.env``.
"""

from __future__ import annotations

from pathlib import Path

from cryptography.fernet import Fernet as _fernet_key_check
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

from qualitygov.env import database_from_url, env_bool, env_int, env_list, env_str

BASE_DIR = Path(__file__).resolve().parent
PROJECT_DIR = BASE_DIR.parent
VAR_DIR = Path(env_str("QUALITYGOV_VAR_DIR", str(PROJECT_DIR / "var")))

DEBUG = env_bool("DEBUG", True)
_DEV_SECRET = "dev-only-insecure-key-do-not-use-in-production"
SECRET_KEY = env_str("SECRET_KEY") or (_DEV_SECRET if DEBUG else None)
if not SECRET_KEY:
    raise ImproperlyConfigured("生产环境（DEBUG=false）必须设置 SECRET_KEY。 (SECRET_KEY is required when DEBUG is false.)")
if not DEBUG and SECRET_KEY == _DEV_SECRET:
    raise ImproperlyConfigured("生产环境不得使用开发密钥。 (The development SECRET_KEY must not be used in production.)")
if len(SECRET_KEY) < 32:
    raise ImproperlyConfigured("SECRET_KEY 至少需要 32 个字符。 (SECRET_KEY must be at least 32 characters.)")

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["127.0.0.1", "localhost", "testserver"] if DEBUG else [])
if not DEBUG and not ALLOWED_HOSTS:
    raise ImproperlyConfigured("生产环境必须设置 ALLOWED_HOSTS。 (ALLOWED_HOSTS is required when DEBUG is false.)")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])

if not env_str("DATABASE_URL"):
    VAR_DIR.mkdir(parents=True, exist_ok=True)
DATABASES = {"default": database_from_url(env_str("DATABASE_URL", f"sqlite:///{VAR_DIR / 'qualitygov.sqlite3'}"))}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "rest_framework",
    "rest_framework.authtoken",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_filters",
    "django_tables2",
    "django_htmx",
    "qualitygov.core",
    "qualitygov.registry",
    "qualitygov.credit",
    "qualitygov.trace",
    "qualitygov.inspection",
    "qualitygov.complaints",
    "qualitygov.api",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "qualitygov.core.middleware.ChineseFirstLocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "qualitygov.core.middleware.AuditContextMiddleware",
]

ROOT_URLCONF = "qualitygov.urls"
WSGI_APPLICATION = "qualitygov.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "qualitygov.core.context_processors.navigation",
            ],
        },
    },
]

AUTH_USER_MODEL = "core.User"
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# Chinese is the default language of every page; English is available from the switcher.
LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", "简体中文"), ("en", "English")]
LOCALE_PATHS = [BASE_DIR / "locale"]
FORMAT_MODULE_PATH = ["qualitygov.formats"]
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = Path(env_str("STATIC_ROOT", str(VAR_DIR / "staticfiles")))
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if not DEBUG
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}
if DEBUG:
    STATIC_ROOT.mkdir(parents=True, exist_ok=True)  # whitenoise warns about a missing root otherwise
MEDIA_ROOT = VAR_DIR / "media"
# Where the daily bulk export of public credit data is written (default VAR_DIR/exports/credit).
CREDIT_EXPORT_DIR = env_str("CREDIT_EXPORT_DIR", None)
# The official GS1 EPCIS 2.0 JSON schema used to validate captures (default: the reference copy in
# ../shared/reference/epcis/schema/ beside the checkout; the file is not part of this repository).
EPCIS_SCHEMA_PATH = env_str("EPCIS_SCHEMA_PATH", None)
# Complaint and tip-off attachments live here, outside the web root and never served as static or
# media files: they are streamed by a view that checks the reader's scope (default VAR_DIR/private).
COMPLAINTS_PRIVATE_DIR = env_str("COMPLAINTS_PRIVATE_DIR", None) or str(VAR_DIR / "private" / "complaints")
# Keys that encrypt complainants' and reporters' identities at rest (Fernet keys, comma-separated,
# newest first: older keys still decrypt, so a key can be rotated). Development and tests derive one
# from SECRET_KEY; production must give its own (kept apart from the database and its backups).
COMPLAINTS_ENCRYPTION_KEYS = env_list("COMPLAINTS_ENCRYPTION_KEYS", [])
if not COMPLAINTS_ENCRYPTION_KEYS and not DEBUG:
    raise ImproperlyConfigured("生产环境必须设置 COMPLAINTS_ENCRYPTION_KEYS（投诉举报人信息加密密钥）。 "
                               "(COMPLAINTS_ENCRYPTION_KEYS is required when DEBUG is false.)")
for _key in COMPLAINTS_ENCRYPTION_KEYS:
    try:
        _fernet_key_check(_key)
    except ValueError:
        raise ImproperlyConfigured(
            "COMPLAINTS_ENCRYPTION_KEYS 中有无效的密钥：每个密钥应为 32 字节的 URL 安全 Base64 编码（Fernet 密钥）。 "
            "(Each COMPLAINTS_ENCRYPTION_KEYS entry must be a Fernet key: 32 bytes, URL-safe base64.)") from None
# Public submissions per client (address digest) per hour before the form and API refuse more.
COMPLAINTS_SUBMISSIONS_PER_HOUR = int(env_str("COMPLAINTS_SUBMISSIONS_PER_HOUR", "10") or 10)
FILE_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
DATA_UPLOAD_MAX_MEMORY_SIZE = 20 * 1024 * 1024

SESSION_COOKIE_HTTPONLY = True
# Behind a TLS-terminating reverse proxy that sets X-Forwarded-Proto, Django must trust it to know
# requests were made over HTTPS (secure cookies, CSRF origin checks).
if env_bool("BEHIND_HTTPS_PROXY", False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SESSION_COOKIE_SECURE = env_bool("SESSION_COOKIE_SECURE", not DEBUG)
CSRF_COOKIE_SECURE = env_bool("CSRF_COOKIE_SECURE", not DEBUG)

# Pages of lists: how many rows per page by default, and the cap a user may ask for.
PAGINATE_BY = env_int("PAGINATE_BY", 25, minimum=1)
MAX_PAGE_SIZE = env_int("MAX_PAGE_SIZE", 1000, minimum=1)
# Licences expiring within this many days are flagged on the dashboard and the expiry list.
LICENCE_EXPIRY_WARNING_DAYS = env_int("LICENCE_EXPIRY_WARNING_DAYS", 90, minimum=1)

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["qualitygov.core.api_permissions.RolePermission"],
    "DEFAULT_FILTER_BACKENDS": [
        "django_filters.rest_framework.DjangoFilterBackend",
        "rest_framework.filters.OrderingFilter",
    ],
    "DEFAULT_PAGINATION_CLASS": "qualitygov.core.api_permissions.StandardPagination",
    "PAGE_SIZE": env_int("API_PAGE_SIZE", 50, minimum=1),
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "qualitygov.core.api.exception_handler",
    "DEFAULT_VERSIONING_CLASS": None,
}

SPECTACULAR_SETTINGS = {
    "TITLE": "QualityGov API",
    "DESCRIPTION": _("吉林省质量监管平台开放接口 (QualityGov open API)"),
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    # Several models name a choice set Status or Kind: give each schema enum its own name.
    "ENUM_NAME_OVERRIDES": {
        "EnforcementActionEnum": "qualitygov.inspection.models.Enforcement.Action",
        "AttachmentKindEnum": "qualitygov.inspection.models.SampleAttachment.Kind",
        "RandomDrawKindEnum": "qualitygov.inspection.models.RandomDraw.Kind",
        "TestReportKindEnum": "qualitygov.inspection.models.TestReport.Kind",
        "RuleVersionStatusEnum": "qualitygov.inspection.models.RuleVersion.Status",
        "PlanStatusEnum": "qualitygov.inspection.models.InspectionPlan.Status",
        "SampleStatusEnum": "qualitygov.inspection.models.Sample.Status",
        "ListKindEnum": "qualitygov.credit.models.ListEntry.Kind",
        "ComplaintCaseKindEnum": "qualitygov.complaints.models.Case.Kind",
        "ComplaintCaseStatusEnum": "qualitygov.complaints.models.Case.Status",
        "ComplaintAttachmentKindEnum": "qualitygov.complaints.models.Attachment.Kind",
        "RespondentNoticeKindEnum": "qualitygov.complaints.models.RespondentNotice.Kind",
        "RewardStatusEnum": "qualitygov.complaints.models.Reward.Status",
        "RewardLevelEnum": "qualitygov.complaints.models.Reward.Level",
    },
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
    "loggers": {"django.db.backends": {"level": "WARNING"}},
}
