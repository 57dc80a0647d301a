"""Words for the register's values, in the reader's language."""
from flask_babel import lazy_gettext as _l

from ..models import RiskStatus
from ..services.risks.scoring import RiskClass

STATUS = {
    RiskStatus.IDENTIFIED: _l("Identified"),
    RiskStatus.TREATED: _l("Measures under way"),
    RiskStatus.REMEDIATED: _l("Remedied"),
    RiskStatus.CLOSED: _l("Closed"),
}

CLASS = {
    RiskClass.LOW: _l("Low"),
    RiskClass.MEDIUM: _l("Medium"),
    RiskClass.HIGH: _l("High"),
}

PROBABILITY = {1: _l("1 – very low"), 2: _l("2 – low"), 3: _l("3 – medium"),
               4: _l("4 – high"), 5: _l("5 – very high")}
