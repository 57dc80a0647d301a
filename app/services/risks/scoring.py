"""Scores and classes of corruption risks.

Romania's standard methodology for assessing corruption risks (HG 599/2018, Anexa 1, with the
indicators for estimating probability in Anexa 2 and impact in Anexa 3) rates each risk's
probability of materialising and its impact on scales from 1 (very low) to 5 (very high);
the exposure is their product, 1–25.

Classes used here, as closed intervals of the product (13 and 14 are no product of two
ratings, so the bands leave no gap):

- low     1–4   (e.g. 1 × 4, 2 × 2)
- medium  5–12  (e.g. 1 × 5, 3 × 4)
- high    15–25 (e.g. 3 × 5, 4 × 4, 5 × 5)

The methodology fixes the scales and the product; these bands are the usual ones of the
5 × 5 risk matrix and are this portal's choice, to be checked against the working group's
own decision (the methodology lets it rank the risks by exposure). Other bands are a change
of LOW_MAX and MEDIUM_MAX, the one place the pages and the documents read them from.
"""
import enum

SCALE = range(1, 6)
LOW_MAX = 4
MEDIUM_MAX = 12


# The lowest score that is a product of two ratings above MEDIUM_MAX (15 with the bands here).
HIGH_MIN = min(p * i for p in SCALE for i in SCALE if p * i > MEDIUM_MAX)


class RiskClass(enum.Enum):
    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"


def score(probability: int, impact: int) -> int:
    if probability not in SCALE or impact not in SCALE:
        raise ValueError("probability and impact are rated 1 to 5")
    return probability * impact


def risk_class(probability: int, impact: int) -> RiskClass:
    value = score(probability, impact)
    if value <= LOW_MAX:
        return RiskClass.LOW
    if value <= MEDIUM_MAX:
        return RiskClass.MEDIUM
    return RiskClass.HIGH
