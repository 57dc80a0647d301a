"""A report arriving, and the reporter coming back to it.

- submit       receiving a report: everything encrypted, the keys sealed to the handlers who
               may read it, a receipt issued; the lengths a reporter may type; who may be
               excluded; the date rule for reports entered by staff
- evidence     evidence files: checked, cleaned of image metadata, encrypted to disk in chunks
- voice      voice messages: decoded in memory, disguised (pitch and formants), stored as Opus
- held_files   evidence kept, sealed, across a refused report form
- receipts     receipt codes: 16 random digits, shown once, never stored
- references   SES-<year>-<seq>, sequential per institution and local year
- followup     the reporter's way back: receipt login, a short split session, reading the
               answers and replying
"""
