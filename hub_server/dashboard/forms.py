"""Forms: read what was posted, validate it with the services' models, errors per field."""

from collections.abc import Iterable, Mapping, Sequence
from typing import Annotated, Any, TypeVar

from fastapi import Depends, Request
from pydantic import BaseModel, ValidationError

from hub_server.dashboard.auth import CSRF_FIELD

M = TypeVar("M", bound=BaseModel)

NOT_FIELDS = frozenset({CSRF_FIELD, "confirmed"})


async def posted(request: Request) -> dict[str, str]:
    """The posted text fields (files and the CSRF token left out), trimmed."""
    form = await request.form()
    return {
        key: value.strip()
        for key, value in form.items()
        if isinstance(value, str) and key not in NOT_FIELDS
    }


async def said_yes(request: Request) -> bool:
    """Whether the form came from the confirmation page (``render.confirm``) with its yes."""
    form = await request.form()
    return form.get("confirmed") == "yes"


Posted = Annotated[dict[str, str], Depends(posted)]
"""A route parameter typed ``Posted`` receives :func:`posted`'s fields."""

Confirmed = Annotated[bool, Depends(said_yes)]
"""A route parameter typed ``Confirmed`` says whether the operator confirmed."""


def parse(
    model: type[M], data: dict[str, Any], *, blank_is_none: Iterable[str] = ()
) -> tuple[M | None, dict[str, str]]:
    """``data`` as ``model``, or ``None`` and a problem per field (for inline errors).

    Fields named in ``blank_is_none`` that were left empty count as not given.
    """
    values = {
        key: (None if key in blank_is_none and value == "" else value)
        for key, value in data.items()
    }
    try:
        return model.model_validate(values), {}
    except ValidationError as err:
        errors: dict[str, str] = {}
        for problem in err.errors():
            field = ".".join(str(part) for part in problem["loc"]) or "form"
            if problem["type"] == "extra_forbidden":
                field = "form"
            message = str(problem["msg"]).removeprefix("Value error, ")
            errors.setdefault(field, message)
        return None, errors


def placed(
    errors: Mapping[str, str], fields: Sequence[str], renamed: Mapping[str, str] | None = None
) -> dict[str, str]:
    """Errors by the form field they belong to (``renamed``: a model's field to the form's);
    one about anything else goes to the top of the form, naming what it is about."""
    found: dict[str, str] = {}
    for key, problem in errors.items():
        field = (renamed or {}).get(key, key)
        if field in fields or field == "form":
            found.setdefault(field, problem)
        else:
            found.setdefault("form", f"{key}: {problem}")
    return found
