"""The service's error bodies, in one place, and what the OpenAPI schema says of them.

Every refusal is `{"detail": "<中文，可以直接给人看>"}` (FastAPI's HTTPException, or a
domain error turned into one by the handlers below), except request validation (422),
which the app's handler (bot/service/app.py) answers with the field at fault named in
Chinese and every problem listed. Routes declare the codes they can return with
`refusals(...)`; `document_validation_errors` puts the real 422 body in place of FastAPI's
default (`HTTPValidationError`, a shape this service never sends), so the schema is the
contract tests/service/test_openapi_schema.py checks every route against.
"""

from __future__ import annotations

from typing import Any

from fastapi import Request
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute
from pydantic import BaseModel, Field

from bot.cases.model import CaseError, Conflict, IllegalTransition, NotAllowed, NotFound
from bot.places import UnknownPlace


class ErrorOut(BaseModel):
    detail: str = Field(description="Chinese, safe to show to the person")


class FieldProblem(BaseModel):
    field: str = Field(
        description="The field at fault: a body field's dotted path (household.members.0.age), "
        "or query./header./path. and the parameter's name"
    )
    message: str = Field(description="What is wrong, in Chinese")
    type: str | None = Field(None, description="pydantic's error type, e.g. missing, string_too_long")


class ValidationErrorOut(BaseModel):
    detail: str = Field(description="The first problem as one Chinese sentence: 字段 … 有误：…")
    errors: list[FieldProblem] = Field(
        default_factory=list,
        description="Every problem found; empty when the route checked the value itself (e.g. an unknown place)",
    )


DESCRIPTIONS = {
    400: "The request is well formed but not possible for this case now (Chinese reason in detail)",
    401: "No credentials, or a bot token that is not the service's: log in on /console/login "
    "(cookie session) or send Authorization: Bearer <bot token>",
    403: "Not allowed: this role may not call this route, the bot token may not call it, or a cookie-session "
    "call that changes something came without a valid X-CSRF-Token header",
    404: "No such case (or dead letter)",
    409: "Someone else changed the case at the same moment, or the step is not possible from its status; "
    "reload and try again",
    422: "The request does not fit the schema, or a value is not one the service knows; "
    "detail names the field in Chinese",
    429: "Too many tries; the Retry-After header says in how many seconds to try again",
}

RETRY_AFTER = {"Retry-After": {"description": "Seconds to wait before the next try", "schema": {"type": "integer"}}}


def refusals(*codes: int, **descriptions: str) -> dict[int | str, dict[str, Any]]:
    """`responses=` entries for these status codes, with the shared error body.
    A description for one code is given as e.g. `_403="…"`."""
    out: dict[int | str, dict[str, Any]] = {}
    for code in codes:
        entry: dict[str, Any] = {
            "model": ValidationErrorOut if code == 422 else ErrorOut,
            "description": descriptions.get(f"_{code}", DESCRIPTIONS[code]),
        }
        if code == 429:
            entry["headers"] = RETRY_AFTER
        out[code] = entry
    return out


_DEFAULT_422 = "#/components/schemas/HTTPValidationError"
_OURS_422 = "#/components/schemas/ValidationErrorOut"


def document_validation_errors(schema: dict[str, Any]) -> dict[str, Any]:
    """Replace FastAPI's default 422 body with ValidationErrorOut on every operation (in place)."""
    components = schema.setdefault("components", {}).setdefault("schemas", {})
    model = ValidationErrorOut.model_json_schema(ref_template="#/components/schemas/{model}")
    components.update(model.pop("$defs", {}))
    components.setdefault("ValidationErrorOut", model)
    for path in schema.get("paths", {}).values():
        for operation in path.values():
            response = operation.get("responses", {}).get("422")
            if not response:
                continue
            content = response.setdefault("content", {}).setdefault("application/json", {})
            if content.get("schema", {}).get("$ref", _DEFAULT_422) == _DEFAULT_422:
                content["schema"] = {"$ref": _OURS_422}
            if response.get("description") == "Validation Error":
                response["description"] = DESCRIPTIONS[422]
    for name in ("HTTPValidationError", "ValidationError"):  # FastAPI's pair, if nothing refers to them now
        others = {k: v for k, v in components.items() if k != name}
        if f"#/components/schemas/{name}'" not in repr((schema["paths"], others)):
            components.pop(name, None)
    return schema


# ---------------------------------------------------------------- domain errors
# The routes call the domain and let its refusals through; bot/service/app.py registers these
# handlers, so each refusal gets the same answer on every route.

# First match wins: the specific refusals before CaseError itself.
CASE_ERROR_STATUS: tuple[tuple[type[CaseError], int], ...] = (
    (NotFound, 404),
    (NotAllowed, 403),
    (Conflict, 409),
    (IllegalTransition, 409),
    (CaseError, 400),
)
VALUE_REFUSED = "取值不在允许范围内"


def case_error_status(exc: CaseError) -> int:
    return next(code for kind, code in CASE_ERROR_STATUS if isinstance(exc, kind))


async def case_error_response(_request: Request, exc: CaseError) -> JSONResponse:
    return JSONResponse({"detail": exc.message}, status_code=case_error_status(exc))


async def unknown_place_response(_request: Request, exc: UnknownPlace) -> JSONResponse:
    return JSONResponse({"detail": str(exc)}, status_code=422)


class DeskRoute(APIRoute):
    """A route of the case desk's JSON API (bot/service/routers/cases.py, case_workflow.py, conversations.py).

    Only these answer a bare ValueError from the desk (a value it could not take) with 422:
    that is what they have always promised. Elsewhere a ValueError stays the server error it is."""


async def desk_value_error_response(request: Request, exc: ValueError) -> JSONResponse:
    if not isinstance(request.scope.get("route"), DeskRoute):
        raise exc
    return JSONResponse({"detail": VALUE_REFUSED}, status_code=422)
