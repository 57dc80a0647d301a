"""Business rules. Services take plain arguments, raise domain exceptions and flush();
the caller commits once (see app.services.transaction)."""
