"""A handler's work on a case, from the inbox to the closing.

- workflow     the life of a case: triage, acknowledge, assess, investigate, close, forward,
               extend; each step checks role and key, refuses illegal transitions, records an
               event and an audit entry, and recomputes the deadlines
- case_view    the case page and file downloads, each read audited; every operation here
               takes the OpenCase of access/opened.py (role and key checked once)
- events       the case history: record_event(), the one writer of case events, plain
               metadata only, never typed text or identity
- messages     messages to the reporter (a message stops the 3-month feedback clock)
- notes        internal notes, encrypted under the case key, never shown to the reporter
- deadlines    the legal clocks (Law 361/2022, OG 27/2002) and what "done" means for each;
               the inbox, the case page and the statistics use these definitions
- inbox        case metadata only, filtered and sorted in SQL, no decryption
- redaction    deleting personal data manifestly irrelevant to a case, with a written reason
- meetings     a meeting on request: the reporter's request (encrypted, an inbox marker), the
               minutes as the oral-report transcript, the reporter's confirmation
"""
