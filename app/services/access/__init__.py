"""Who can open what, and the checks that say so in the service layer.

- keys         storing a case's keys sealed to the readers each caller names (handlers,
               custodians, the institution's recovery key), and opening them again
- guards       role and key checks (require_role, case_for_handler): views are not the guard
- opened       open_case(): a handler's case and its key, opened once per request; the
               OpenCase every operation on a case takes
- grants       giving a colleague access to a case, or taking it back, audited
- identity     the reporter's identity: hidden by default, shown for a written reason, under
               the institution's policy (direct, or through a custodian)
- recovery     what the offline recovery code is for: giving a handler the existing cases,
               giving a staff member who lost their password a new key
"""
