"""Words for the register's values, in the reader's language."""
from flask_babel import lazy_gettext as _l
from flask_babel import lazy_pgettext

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
# The same words for the impact, apart: Romanian agrees them with "impact" (masculine).
IMPACT = {1: lazy_pgettext("impact", "1 – very low"), 2: lazy_pgettext("impact", "2 – low"),
          3: lazy_pgettext("impact", "3 – medium"), 4: lazy_pgettext("impact", "4 – high"),
          5: lazy_pgettext("impact", "5 – very high")}
