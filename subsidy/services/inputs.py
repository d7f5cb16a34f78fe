"""Input checks the services share: whole numbers, and every field's error at once."""

from collections.abc import Mapping

from django.core.exceptions import ValidationError

from subsidy import validators


def _whole_number_errors(data: Mapping[str, object], names: tuple[str, ...]) -> dict:
    errors: dict[str, list[str]] = {}
    for name in names:
        if name in data:
            try:
                validators.whole_number(data[name])
            except ValidationError as exc:
                errors[name] = exc.messages
    return errors


def _full_clean(instance: object, errors: dict, **kwargs: object) -> None:
    """full_clean, reporting the errors found before it too: every field's problem at once."""
    errors = {name: list(messages) for name, messages in errors.items()}
    try:
        instance.full_clean(**kwargs)
    except ValidationError as exc:
        for name, messages in exc.message_dict.items():
            # A value refused already (1.5) is not reported twice as Django's truncation.
            if name not in errors:
                errors[name] = messages
    if errors:
        raise ValidationError(errors)
