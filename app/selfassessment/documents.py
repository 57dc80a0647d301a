"""The self-assessment report (measure 1.8) as a document for app.documents, in Romanian (it
is sent with the annual evaluation)."""
from ..documents.model import Document
from ..models import Answer
from ..services.selfassessment.inventory import Inventory

ANSWER_RO = {
    Answer.IMPLEMENTED: "Implementată",
    Answer.PARTIAL: "Parțial implementată",
    Answer.NOT_IMPLEMENTED: "Neimplementată",
    Answer.NOT_APPLICABLE: "Nu este cazul",
}
NOT_ANSWERED = "Fără răspuns"


def self_assessment_document(institution_name: str, inventory: Inventory, year: int,
                             given: dict) -> Document:
    document = Document(f"Raport de autoevaluare — {year}",
                        f"{institution_name} · {inventory.title}")
    counts = {answer: 0 for answer in Answer}
    for value in given.values():
        counts[value.answer] += 1
    document.key_values([
        ("Măsuri din inventar", str(len(inventory.items))),
        *((ANSWER_RO[answer], str(count)) for answer, count in counts.items()),
        (NOT_ANSWERED, str(len(inventory.items) - len(given))),
        ("Sursa inventarului", inventory.source),
    ])
    rows = []
    for item in inventory.items:
        value = given.get(item.code)
        rows.append((item.code, item.title,
                     ANSWER_RO[value.answer] if value else NOT_ANSWERED,
                     (value.note if value else "") or "—"))
    document.table(["Nr.", "Măsura", "Stadiu", "Observații"], rows, (1, 5, 2.5, 5))
    return document
