"""Staff accounts: the people, their key pairs and how they sign in.

- members      creating an account and its key pair (password rules, one account per e-mail),
               unlocking the private key with the password
- directory    the active handlers a report is sealed to, custodians, staff names
- accounts     accounts as the administrator manages them: roles, deactivation, unlocking,
               confirmation of trusted roles; never their keys
- sign_in      password then TOTP, one answer and one cost for every refusal; the private key
               kept in a split session (StaffAccess)
- invitations  a one-time activation link; password and second factor set in one step
- totp         TOTP codes (RFC 6238) and the enrolment QR code
- platform_accounts  the deployment's operator and observers: accounts without a place
"""
