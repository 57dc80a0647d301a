"""The integrity-plan indicators, from plaintext metadata only, and how the public sees them.

- compute        the indicators of one period, in SQL (nothing selects case content)
- clocks         the legal clocks in a period: how many deadlines were met, late, pending
- sql            aggregation pieces SQLite and PostgreSQL spell differently
- periods        reporting periods as runs of whole local days
- suppression    small-count suppression for every public output
- exports        open data (CSV, JSON, metadata), suppressed, audited
- transparency   the public page's years and figures, kept in a short cache
- outreach       the coordinator's log of preventive posts and awareness activities
- usage          counting portal use per local day, without recording who
- group          the indicators of a group of institutions (a county, an association, all)
- group_queries  the group's SQL: the same conditions, GROUP BY institution_id, one pass each
- group_public   what a group publishes: built from each institution's published figures only
- group_exports  a group's open data: one CSV row per institution and indicator, metadata
- group_transparency  the public group pages' years and cached figures
- adoption       who implemented measure 2.2: not reporting, channel unused, no prevention
- snapshots      completed years' exact figures kept per institution (nightly refresh)
"""
