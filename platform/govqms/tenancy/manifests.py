"""Reading and validating the files in ``tenants/``.

Every file goes through a marshmallow schema; then the files are checked together (a slug
used twice, a merge into an agency that exists nowhere, a merge cycle, a parent that does
not exist). Nothing is written here. A set of files with any problem is refused as a whole,
and every problem names its file, the path inside it (``tenants[3].merged_on``) and what
is wrong.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable

import yaml
from flask import current_app
from flask_babel import lazy_gettext as _l
from marshmallow import RAISE, Schema, ValidationError, fields, validate, validates_schema

from govqms.core.permissions import OversightRoleKind, TenantRole
from govqms.core.schemas import InputSchema
from govqms.tenancy.models import JurisdictionLevel, TenantKind

SLUG = validate.Regexp(r"^[a-z0-9][a-z0-9-]*$", error=_l("Use lowercase letters, digits and dashes."))
CODE = validate.Regexp(r"^[A-Za-z0-9][A-Za-z0-9._-]*$",
                       error=_l("Use letters, digits, dot, dash or underscore, starting with a letter or digit."))
DOCUMENT_TYPES = ("quality_manual", "quality_policy", "system_procedure", "work_procedure", "form", "external")
FREQUENCIES = ("monthly", "quarterly", "half_year", "year")
MAX_MANIFEST_BYTES = 1024 * 1024


@dataclass(frozen=True)
class Problem:
    file: str
    path: str
    message: str

    def __str__(self) -> str:
        where = f"{self.file}: {self.path}" if self.path else self.file
        return f"{where}: {self.message}"


class ManifestError(Exception):
    """The files were refused; ``problems`` lists every reason."""

    def __init__(self, problems: list[Problem]):
        super().__init__("\n".join(str(p) for p in problems))
        self.problems = problems


# --- YAML -------------------------------------------------------------------------------------

# libyaml's parser when available: ten times faster on the kind templates.
_SafeBase = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _Loader(_SafeBase):
    """Safe YAML where dates stay text, so the schemas validate them and name the error."""


_Loader.yaml_implicit_resolvers = {
    key: [r for r in resolvers if r[0] != "tag:yaml.org,2002:timestamp"]
    for key, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


def parse_yaml(text: str, name: str) -> Any:
    try:
        return yaml.load(text, Loader=_Loader)  # noqa: S506 - a SafeLoader subclass
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(exc, "problem", None) or str(exc)
        raise ManifestError([Problem(name, where, f"{_l('malformed YAML')}: {problem}")]) from exc


# --- schemas ------------------------------------------------------------------------------------

def one_of(choices) -> validate.OneOf:
    return validate.OneOf(list(choices), error=_l("Must be one of: {choices}."))


class _Strict(InputSchema):
    """Manifest entries: a misspelt key in a reviewed file is an error, not silently ignored."""

    class Meta:
        unknown = RAISE

    error_messages = {"unknown": _l("Unknown key.")}

    def on_bind_field(self, field_name, field_obj):
        super().on_bind_field(field_name, field_obj)
        if isinstance(field_obj, fields.Date):  # files write ISO dates
            field_obj.error_messages = {**field_obj.error_messages, "invalid": _l("Not a valid date (YYYY-MM-DD).")}


class UnitEntry(_Strict):
    code = fields.String(required=True, validate=[validate.Length(max=32), CODE])
    name = fields.String(required=True, validate=validate.Length(min=1, max=255))


class DocumentEntry(_Strict):
    code = fields.String(required=True, validate=[validate.Length(max=32), CODE])
    title = fields.String(required=True, validate=validate.Length(min=1, max=500))
    type = fields.String(required=True, validate=one_of(DOCUMENT_TYPES))
    unit = fields.String(load_default=None)


class RecordEntry(_Strict):
    name = fields.String(required=True, validate=validate.Length(min=1, max=500))
    document = fields.String(load_default=None)
    kept_by = fields.String(required=True)
    retention = fields.String(required=True, validate=validate.Length(min=1, max=100))


class ObjectiveEntry(_Strict):
    statement = fields.String(required=True, validate=validate.Length(min=1, max=1000))
    indicator = fields.String(required=True, validate=validate.Length(min=1, max=500))
    comparator = fields.String(required=True, validate=one_of((">=", "<=", "=")))
    target = fields.Float(required=True)
    unit_of_measure = fields.String(required=True, validate=validate.Length(max=32))
    frequency = fields.String(required=True, validate=one_of(FREQUENCIES))
    #: typed by hand, or computed from the agency's service results or satisfaction surveys
    source = fields.String(load_default="typed", validate=one_of(("typed", "on_time_rate", "satisfaction_rate")))


def _duplicates(items: Iterable[str]) -> list[str]:
    seen, dupes = set(), []
    for item in items:
        if item in seen:
            dupes.append(item)
        seen.add(item)
    return dupes


class KindSchema(_Strict):
    kind = fields.String(required=True, validate=one_of([k.value for k in TenantKind]))
    name = fields.String(required=True, validate=validate.Length(min=1, max=255))
    name_en = fields.String(required=True, validate=validate.Length(min=1, max=255))
    historical = fields.Boolean(load_default=False)
    units = fields.List(fields.Nested(UnitEntry), required=True, validate=validate.Length(min=1))
    documents = fields.List(fields.Nested(DocumentEntry), load_default=list)
    records = fields.List(fields.Nested(RecordEntry), load_default=list)
    objectives = fields.List(fields.Nested(ObjectiveEntry), load_default=list)

    @validates_schema
    def _references(self, data, **kwargs):
        errors: dict[str, Any] = {}
        units = {u["code"] for u in data.get("units", [])}
        documents = {d["code"] for d in data.get("documents", [])}
        for name, key in (("units", "code"), ("documents", "code")):
            for i, entry in enumerate(data.get(name, [])):
                if entry[key] in _duplicates(e[key] for e in data[name][: i + 1]):
                    errors.setdefault(name, {}).setdefault(i, {})[key] = [str(_l("used twice in this file"))]
        for i, doc in enumerate(data.get("documents", [])):
            if doc.get("unit") and doc["unit"] not in units:
                errors.setdefault("documents", {}).setdefault(i, {})["unit"] = [str(_l("not one of this file's units"))]
        for i, record in enumerate(data.get("records", [])):
            if record["kept_by"] not in units:
                errors.setdefault("records", {}).setdefault(i, {})["kept_by"] = [
                    str(_l("not one of this file's units"))]
            if record.get("document") and record["document"] not in documents:
                errors.setdefault("records", {}).setdefault(i, {})["document"] = [
                    str(_l("not one of this file's documents"))]
        if errors:
            raise ValidationError(errors)


class AccountEntry(_Strict):
    email = fields.Email(required=True)
    name = fields.String(required=True, validate=validate.Length(min=1, max=255))
    roles = fields.List(fields.String(validate=one_of([r.value for r in TenantRole])),
                        required=True, validate=validate.Length(min=1))


class OversightEntry(_Strict):
    email = fields.Email(required=True)
    name = fields.String(required=True, validate=validate.Length(min=1, max=255))
    role = fields.String(required=True, validate=one_of([r.value for r in OversightRoleKind]))


class TenantEntry(_Strict):
    slug = fields.String(required=True, validate=[validate.Length(max=64), SLUG])
    name = fields.String(required=True, validate=validate.Length(min=1, max=255))
    kind = fields.String(required=True, validate=one_of([k.value for k in TenantKind]))
    established_on = fields.Date(load_default=None, format="%Y-%m-%d")
    units = fields.List(fields.Nested(UnitEntry), load_default=None)
    accounts = fields.List(fields.Nested(AccountEntry), load_default=list)
    merged_into = fields.String(load_default=None, validate=SLUG)
    merged_on = fields.Date(load_default=None, format="%Y-%m-%d")

    @validates_schema
    def _merge_pair(self, data, **kwargs):
        if data.get("merged_into") and not data.get("merged_on"):
            raise ValidationError(str(_l("required with merged_into")), "merged_on")
        if data.get("merged_on") and not data.get("merged_into"):
            raise ValidationError(str(_l("required with merged_on")), "merged_into")
        if data.get("merged_into") == data.get("slug"):
            raise ValidationError(str(_l("an agency cannot merge into itself")), "merged_into")
        if data.get("units"):
            for i, code in enumerate(u["code"] for u in data["units"]):
                if code in [u["code"] for u in data["units"][:i]]:
                    raise ValidationError({"units": {i: {"code": [str(_l("used twice in this agency"))]}}})


class JurisdictionEntry(_Strict):
    code = fields.String(required=True, validate=[validate.Length(max=40), SLUG])
    name = fields.String(required=True, validate=validate.Length(min=1, max=255))
    level = fields.String(required=True, validate=one_of([lv.value for lv in JurisdictionLevel]))
    parent = fields.String(load_default=None, validate=SLUG)

    @validates_schema
    def _parent(self, data, **kwargs):
        if data.get("level") == JurisdictionLevel.NATIONAL and data.get("parent"):
            raise ValidationError(str(_l("the national level has no parent")), "parent")
        if data.get("level") != JurisdictionLevel.NATIONAL and not data.get("parent"):
            raise ValidationError(str(_l("required below the national level")), "parent")


class JurisdictionManifestSchema(_Strict):
    jurisdiction = fields.Nested(JurisdictionEntry, required=True)
    oversight = fields.List(fields.Nested(OversightEntry), load_default=list)
    tenants = fields.List(fields.Nested(TenantEntry), load_default=list)


# --- loaded files ----------------------------------------------------------------------------------

@dataclass
class Manifest:
    """One jurisdiction file, validated."""

    file: str
    jurisdiction: dict[str, Any]
    oversight: list[dict[str, Any]]
    tenants: list[dict[str, Any]]


@dataclass
class ManifestSet:
    manifests: list[Manifest] = field(default_factory=list)
    kinds: dict[str, dict[str, Any]] = field(default_factory=dict)

    def tenants(self) -> Iterable[tuple[Manifest, int, dict[str, Any]]]:
        for manifest in self.manifests:
            for index, tenant in enumerate(manifest.tenants):
                yield manifest, index, tenant


def flatten(messages: Any, prefix: str = "") -> list[tuple[str, str]]:
    """marshmallow's nested error dict as ``(path, message)`` pairs: ``tenants[3].merged_on``."""
    out: list[tuple[str, str]] = []
    if isinstance(messages, dict):
        for key, value in messages.items():
            if key == "_schema":
                path = prefix
            elif isinstance(key, int):
                path = f"{prefix}[{key}]"
            else:
                path = f"{prefix}.{key}" if prefix else str(key)
            out.extend(flatten(value, path))
    elif isinstance(messages, (list, tuple)):
        if all(isinstance(m, (str,)) or not isinstance(m, (dict, list, tuple)) for m in messages):
            out.extend((prefix, str(m)) for m in messages)
        else:
            for m in messages:
                out.extend(flatten(m, prefix))
    else:
        out.append((prefix, str(messages)))
    return out


def _load_with(schema: Schema, data: Any, name: str) -> tuple[dict | None, list[Problem]]:
    if not isinstance(data, dict):
        return None, [Problem(name, "", str(_l("the file must be a mapping of keys to values")))]
    try:
        return schema.load(data), []
    except ValidationError as err:
        return None, [Problem(name, path, message) for path, message in flatten(err.messages)]


def kinds_dir() -> Path:
    return Path(current_app.config["TENANTS_DIR"]) / "kinds"


def load_kinds(directory: Path | None = None) -> dict[str, dict[str, Any]]:
    directory = directory or kinds_dir()
    kinds, problems = {}, []
    for path in sorted(directory.glob("*.yaml")):
        name = f"kinds/{path.name}"
        try:
            data = parse_yaml(path.read_text(encoding="utf-8"), name)
        except ManifestError as err:
            problems.extend(err.problems)
            continue
        loaded, found = _load_with(KindSchema(), data, name)
        problems.extend(found)
        if loaded is not None:
            if loaded["kind"] != path.stem:
                problems.append(Problem(name, "kind", str(_l("must equal the file name"))))
            kinds[loaded["kind"]] = loaded
    if problems:
        raise ManifestError(problems)
    return kinds


def read_manifest_texts(paths: Iterable[Path]) -> list[tuple[str, str]]:
    texts = []
    for path in paths:
        path = Path(path)
        if path.stat().st_size > MAX_MANIFEST_BYTES:
            raise ManifestError([Problem(path.name, "", str(_l("file larger than 1 MB")))])
        texts.append((path.name, path.read_text(encoding="utf-8")))
    return texts


def load_manifests(texts: list[tuple[str, str]], *, kinds: dict[str, dict] | None = None,
                   existing_tenants: dict[str, Any] | None = None,
                   existing_jurisdictions: Iterable[str] = ()) -> ManifestSet:
    """Validate jurisdiction files given as ``(name, text)``; raise :class:`ManifestError` with
    every problem found, or return the set.

    *existing_tenants* maps slugs already in the database to their ``merged_into`` slug (or
    None), so a file may merge into an agency provisioned earlier, and cycles through the
    database are seen too. The checks across files read the raw files, so a mistake in one
    entry does not hide another (a bad date next to a merge into nowhere: both reported).
    """
    kinds = kinds if kinds is not None else load_kinds()
    result, problems, raw = ManifestSet(kinds=kinds), [], []
    for name, text in texts:
        try:
            data = parse_yaml(text, name)
        except ManifestError as err:
            problems.extend(err.problems)
            continue
        loaded, found = _load_with(JurisdictionManifestSchema(), data, name)
        problems.extend(found)
        if isinstance(data, dict):
            raw.append((name, data))
        if loaded is not None:
            result.manifests.append(Manifest(name, loaded["jurisdiction"], loaded["oversight"], loaded["tenants"]))
    reported = {(p.file, p.path) for p in problems}
    problems.extend(p for p in _cross_check(raw, kinds, existing_tenants or {}, set(existing_jurisdictions))
                    if (p.file, p.path) not in reported)
    if problems:
        raise ManifestError(problems)
    return result


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def _raw_tenants(raw):
    for name, data in raw:
        tenants = data.get("tenants")
        for index, tenant in enumerate(tenants if isinstance(tenants, list) else []):
            if isinstance(tenant, dict):
                yield name, index, tenant


def _cross_check(raw: list[tuple[str, dict]], kinds: dict, existing_tenants: dict[str, Any],
                 existing_jurisdictions: set[str]) -> list[Problem]:
    problems: list[Problem] = []
    codes: dict[str, str] = {}
    for name, data in raw:
        jurisdiction = data.get("jurisdiction") if isinstance(data.get("jurisdiction"), dict) else {}
        code = _text(jurisdiction.get("code"))
        if code in codes:
            problems.append(Problem(name, "jurisdiction.code", str(_l(
                "jurisdiction %(code)s is also defined in %(file)s", code=code, file=codes[code]))))
        if code:
            codes.setdefault(code, name)
    known_jurisdictions = existing_jurisdictions | codes.keys()
    for name, data in raw:
        jurisdiction = data.get("jurisdiction") if isinstance(data.get("jurisdiction"), dict) else {}
        parent = _text(jurisdiction.get("parent"))
        if parent and parent not in known_jurisdictions:
            problems.append(Problem(name, "jurisdiction.parent", str(_l(
                "no jurisdiction %(code)s in these files or the database", code=parent))))

    slugs: dict[str, str] = {}
    for name, index, tenant in _raw_tenants(raw):
        slug = _text(tenant.get("slug"))
        if slug in slugs:
            problems.append(Problem(name, f"tenants[{index}].slug", str(_l(
                "slug %(slug)s is used twice (also in %(file)s)", slug=slug, file=slugs[slug]))))
        if slug:
            slugs.setdefault(slug, name)
        kind = _text(tenant.get("kind"))
        if kind in {k.value for k in TenantKind} and kind not in kinds:
            problems.append(Problem(name, f"tenants[{index}].kind", str(_l(
                "no template tenants/kinds/%(kind)s.yaml", kind=kind))))

    # Lineage: every merge target exists; following merged_into never loops.
    successor_of = {slug: target for slug, target in existing_tenants.items() if target}
    merging = []
    for name, index, tenant in _raw_tenants(raw):
        slug, target = _text(tenant.get("slug")), _text(tenant.get("merged_into"))
        if not (slug and target) or slug == target:
            continue
        if target not in slugs and target not in existing_tenants:
            problems.append(Problem(name, f"tenants[{index}].merged_into", str(_l(
                "no agency %(slug)s in these files or the database", slug=target))))
            continue
        successor_of[slug] = target
        merging.append((name, index, slug, target))
    for name, index, slug, target in merging:
        if _in_cycle(slug, successor_of):
            problems.append(Problem(name, f"tenants[{index}].merged_into", str(_l(
                "merging %(slug)s into %(target)s makes a cycle", slug=slug, target=target))))
    return problems


def _in_cycle(start: str, successor_of: dict[str, str]) -> bool:
    seen, current = {start}, successor_of.get(start)
    while current is not None:
        if current in seen:
            return True
        seen.add(current)
        current = successor_of.get(current)
    return False

