"""What a QMS inspection checks (TT 26/2014/TT-BKHCN, Art. 36), in the order of the minutes.

The keys are stored in every saved checklist: add items, never rename one."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l

ART36 = [
    ("scope", _l("The scope covers every administrative procedure")),
    ("training", _l("Staff were trained on the QMS documents")),
    ("conformity", _l("Conformity with the standard, the quality policy, objectives and procedures")),
    ("processes", _l("Processes run as documented")),
    ("review_audit_capa", _l("Management review, internal audit and corrective actions carried out")),
    # not an Art. 36 line of its own: the effectiveness of the previous inspection's follow-up (Art. 39)
    # is checked at the next inspection
    ("previous_actions", _l("Effectiveness of the corrective actions after the previous inspection")),
    ("complaints", _l("Complaints handled")),
    ("improvement", _l("Continual improvement")),
    ("leadership", _l("Leadership involvement")),
    ("confirmation", _l("The head confirmed the effectiveness of the QMS")),
    ("declaration", _l("Declaration made, notified to the DOST, posted and published")),
    ("legal_updates", _l("Legal changes applied to the QMS")),
    ("redeclaration", _l("Declared again after a change of scope")),
    ("consultant", _l("Choice of consultant as required")),
]
ART36_KEYS = [key for key, _label in ART36]
RESULTS = {"met": _l("Met"), "not_met": _l("Not met"), "not_applicable": _l("Not applicable")}
