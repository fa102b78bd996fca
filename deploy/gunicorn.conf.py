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
accesslog = "-"
errorlog = "-"
