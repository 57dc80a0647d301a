"""Business rules, one package per domain. Services take plain arguments, raise domain
exceptions and flush(); the caller commits once (see app.services.transaction).

- intake/      a report arriving, and the reporter coming back with their receipt
- casework/    a handler's work on a case: the workflow, the case page, the legal clocks
- access/      who can open what: case keys, role guards, grants, identity, recovery
- staff/       staff accounts, their keys, sign-in, invitations, the second factor
- indicators/  the integrity-plan statistics, their suppression and publication
- operations/  what runs unattended or is set up once: jobs, mail, retention, backups
- audit/       the hash-chained audit log, and reading it

Shared by every package: errors (the domain exceptions), transaction (one unit of work per
request, files included), localtime (Romania's clock), kdf (the deployment's Argon2id
parameters) and split_session (secrets split between a database row and a cookie, for
reporters and staff alike)."""
