"""A refusal from a service, shown on the form: beside the field it names, or above the form."""
from .services.errors import DomainError


def show_error(form, error: DomainError) -> None:
    field = getattr(form, error.field, None) if error.field else None
    (field.errors if field is not None else form.form_errors).append(error.message)
