"""The inventories of preventive measures, read from the JSON files in this package: a new
national strategy's inventory is one more file, not code."""
import json
from dataclasses import dataclass
from functools import cache
from importlib import resources

CURRENT = "sna-2021-2025"


@dataclass(frozen=True)
class Item:
    code: str
    title: str
    hint: str


@dataclass(frozen=True)
class Inventory:
    code: str
    title: str
    source: str
    items: tuple[Item, ...]

    def item(self, code: str) -> Item | None:
        return next((item for item in self.items if item.code == code), None)


@cache
def inventories() -> dict[str, Inventory]:
    found = {}
    for entry in resources.files(__package__).iterdir():
        if entry.name.startswith("inventory_") and entry.name.endswith(".json"):
            data = json.loads(entry.read_text(encoding="utf-8"))
            items = tuple(Item(str(i["code"]), i["title"], i.get("hint", ""))
                          for i in data["items"])
            if len({item.code for item in items}) != len(items):
                raise ValueError(f"{entry.name}: item codes repeat")
            found[data["code"]] = Inventory(data["code"], data["title"], data["source"], items)
    return found


def inventory(code: str = CURRENT) -> Inventory:
    return inventories()[code]
