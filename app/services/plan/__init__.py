"""The integrity-plan workspace (DESIGN.md, "Integrity plan"). Modules:

- data: a plan as a data file (YAML, CSV with the plan's columns), checked; data/ the shipped plans
- loader: storing a plan, or an empty one, each measure with its first version
- deadlines: deadlines as written ("31 martie 2022", "Anual", "La 2 ani") into due dates
- schedule: what is due and overdue; reminders: content-free notices of it through the outbox
- access: who may read the plan and who may fill in a measure (coordinator, plan contributor)
- editing: adding, revising, retiring a measure, each a version; assigning staff to it
- following: a measure's status, progress and typed indicator values per year
- computed: the indicator values the portal counts itself, with source and period
- evidence: verification documents, encrypted like every upload
- open_data: open-data publications (measure 3.2)
- evaluation: the annual evaluation (measure 1.7) for app.documents.evaluation
- workspace: what the plan's pages show for one member and year
- public: the published plan (measure 1.4)
- overview: every institution's degree of implementation and overdue measures (CSV)
- labels: status and indicator-kind names
"""
