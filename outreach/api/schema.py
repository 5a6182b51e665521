"""OpenAPI: the uniform error body on every operation, so the schema tells the whole truth."""

ERROR_SCHEMA = {
    "type": "object",
    "description": "Every error has this body.",
    "properties": {
        "code": {
            "type": "string",
            "description": "A stable machine code.",
            "enum": [
                "validation_error",
                "parse_error",
                "not_authenticated",
                "authentication_failed",
                "permission_denied",
                "not_found",
                "invalid_cursor",
                "method_not_allowed",
                "not_acceptable",
                "unsupported_media_type",
                "payload_too_large",
                "conflict",
                "invalid_state_transition",
                "rate_limited",
                "server_error",
            ],
        },
        "message": {"type": "string", "description": "What went wrong, for people."},
        "details": {
            "type": "object",
            "additionalProperties": True,
            "description": "validation_error: field -> list of problems. Others: context such as allowed methods.",
        },
    },
    "required": ["code", "message", "details"],
    "example": {
        "code": "validation_error",
        "message": "campaign: No such object, or not one you may use: 991.",
        "details": {"campaign": ["No such object, or not one you may use: 991."]},
    },
}

DESCRIPTIONS = {
    "400": "Invalid input: a field, filter, ordering, limit or header value; `details` names each problem.",
    "401": "No or invalid credentials (`not_authenticated`, `authentication_failed`).",
    "403": "Your role in this client does not allow this (`permission_denied`).",
    "404": "No such object in your clients, or a cursor this API did not hand out (`not_found`, `invalid_cursor`).",
    "406": "The Accept header asks for something other than JSON.",
    "409": "The object's state does not allow this (`invalid_state_transition`), or it conflicts with stored data.",
    "413": "The request body is too large.",
    "415": "The body is not JSON (or CSV where an import accepts it).",
    "422": "This Idempotency-Key was used with another request (`conflict`).",
    "429": "Too many requests for this token; the Retry-After header says when to come back (`rate_limited`).",
}
FOR_ALL = ("400", "401", "403", "404", "406", "429")
FOR_WRITES = ("409", "413", "415", "422")


def add_error_responses(result, generator, request, public):
    result.setdefault("components", {}).setdefault("schemas", {})["Error"] = ERROR_SCHEMA
    error = {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}
    for path_item in result.get("paths", {}).values():
        for method, operation in path_item.items():
            if method not in ("get", "post", "put", "patch", "delete"):
                continue
            responses = operation.setdefault("responses", {})
            codes = FOR_ALL + (FOR_WRITES if method in ("post", "put", "patch", "delete") else ())
            for code in codes:
                responses.setdefault(code, {"description": DESCRIPTIONS[code], "content": error})
            if "429" in responses:
                responses["429"].setdefault(
                    "headers",
                    {"Retry-After": {"schema": {"type": "integer"}, "description": "Seconds to wait."}},
                )
            if method == "post":
                parameters = operation.setdefault("parameters", [])
                if not any(p.get("name") == "Idempotency-Key" for p in parameters):
                    parameters.append(
                        {
                            "in": "header",
                            "name": "Idempotency-Key",
                            "required": False,
                            "schema": {"type": "string", "maxLength": 255},
                            "description": (
                                "Send the same key with the same body within 24 hours and the first response is "
                                "replayed (header Idempotent-Replayed: true) without acting again."
                            ),
                        }
                    )
    return result
