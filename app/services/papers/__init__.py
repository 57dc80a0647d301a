"""Official papers a handler produces from cases: the register of reports the law requires
(`register`) and the packet sent with a case forwarded to the competent authority (`forwarding`).
Both decrypt what only a case's handlers may read, so both open each case through
access/opened.py and write every read to the audit log."""
