"""gunicorn settings: `gunicorn -c deploy/gunicorn.conf.py 'govqms:create_app()'`."""
import multiprocessing
import os

bind = os.environ.get("GOVQMS_BIND", "127.0.0.1:8000")
workers = int(os.environ.get("GOVQMS_WORKERS", multiprocessing.cpu_count() * 2 + 1))
threads = 2
timeout = 60
graceful_timeout = 30
# The app must not migrate at start; `govqms db upgrade` runs before the service starts.
preload_app = False
forwarded_allow_ips = os.environ.get("GOVQMS_FORWARDED_ALLOW_IPS", "127.0.0.1")
# gunicorn >= 25 opens a control socket for `gunicornc` under $HOME by default, one path for every
# instance of the user; reloads go through SIGHUP (`systemctl reload govqms-web`) instead.
control_socket_disable = True

# The app writes one access line per request itself (logger govqms.access: request id, tenant,
# user, status, duration), so gunicorn writes none. Its own lines (workers booting, timeouts) go
# to stderr in the app's format, GOVQMS_LOG_FORMAT (JSON lines by default in production).
accesslog = None
errorlog = "-"
logconfig_dict = {
    "version": 1,
    "disable_existing_loggers": False,
    # Each worker's create_app() gives the root logger its handler (govqms.core.logs).
    "root": {"level": "INFO", "handlers": []},
    "loggers": {
        "gunicorn.error": {"level": "INFO", "handlers": ["govqms"], "propagate": False},
        "gunicorn.access": {"level": "INFO", "handlers": [], "propagate": False},
    },
    "handlers": {
        "govqms": {"class": "logging.StreamHandler", "formatter": "govqms", "stream": "ext://sys.stderr"},
    },
    "formatters": {"govqms": {"()": "govqms.core.logs.formatter_from_environment"}},
}
