"""Self-assessment against the national anticorruption strategy's inventory of preventive
measures (integrity plan, measure 1.8): the inventory as data, one answer per item and year.

- `inventory` the inventories shipped as JSON beside it (a next strategy is one more file)
- `answers`   each year's answers (implemented / partially / not / not applicable + note),
              kept by the coordinator and audited
"""
