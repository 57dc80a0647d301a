"""The corruption-risk register of the integrity plan (measures 1.5 and 1.6): the coordinator's
own record of risks per activity, never anything from a case's content. The pages and the
remediation report ("Anexa C") that lay these out are in app/risks/.

- `scoring`     probability × impact on the 1–5 scales, and the classes low / medium / high
- `register`    adding, changing and listing risks (coordinator only), every change audited
- `prompts`     "review the risks of this area": counts of substantiated cases per category
"""
