"""The audit log: metadata of every read and action, never case content.

- chain    append-only, hash-chained per institution; the head row serialises writers and
           its hash is mailed outside the database
- browse   the log as the administrator reads it, with the verdict of the chain check
"""
