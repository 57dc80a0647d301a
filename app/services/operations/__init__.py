"""What runs unattended, or is set up once: background jobs, mail, retention, backups.

- jobs           `flask jobs run`: every step of a cron run, in order, each failure reported
- notify         queueing mail in the outbox; no mail carries report content
- outbox         delivering the outbox over SMTP (or to files in development): one claim per
                 mail, safe on several nodes, retried with backoff, never lost in silence
- reminders      deadline notices to handlers and the audit head to admins, each queued once
                 (dedupe key)
- retention      deleting closed cases for good once the institution's period has passed
- shredding      overwriting files before removing them; SQLite told to zero freed pages
- orphans        removing encrypted files left without a row by a killed process
- backup         encrypted backups: create with public keys only (cron), restore with the
                 recovery code into an empty database, all or nothing
- backup_format  the backup file: header of sealed archive keys, rows as portable JSON
                 values (the archive's encryption is app.crypto.stream)
- preflight      `flask check`: what an operator left misconfigured
- database_role  the portal's PostgreSQL role: owns nothing, bound by row-level security
- settings       the institution's settings, each change audited with old and new value
- institutions   setting up an institution: recovery key pair, receipt salt
- platform       the platform operator's door: the institutions with counts only; create,
                 suspend, resume, delete (operator only)
"""
