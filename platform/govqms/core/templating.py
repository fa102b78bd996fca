"""Small Jinja helpers shared by the templates."""
from __future__ import annotations


def combine_args(args: dict, **changes) -> dict:
    """Query-string arguments with some replaced, empty ones dropped (sort and pager links)."""
    merged = {**args, **changes}
    return {k: v for k, v in merged.items() if v not in (None, "", False)}


def init_app(app) -> None:
    from govqms.core.conflicts import version_field

    app.jinja_env.filters["combine_args"] = combine_args
    app.jinja_env.globals["version_field"] = version_field
