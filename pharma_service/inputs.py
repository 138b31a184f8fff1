"""Read an analysis input (structured JSON request or ordonnance text) into a request."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from pharma_service.errors import InputTooLarge, InvalidInput, MalformedInput, UnsupportedInput
from pharma_service.models import AnalysisRequest, MedicationInput
from pharma_service.parsing.ordonnance_text import ParsedOrdonnance, parse_ordonnance_text

MAX_INPUT_BYTES = 2_000_000
TEXT_SUFFIXES = {".txt", ".text"}
JSON_SUFFIXES = {".json"}


def describe_validation_error(exc: ValidationError) -> str:
    return describe_errors(exc.errors())


def describe_errors(errors: Sequence[Any], drop_prefix: str = "") -> str:
    """One clause per problem: the field path, what is wrong, and the value received."""
    parts = []
    for err in errors:
        path = list(err["loc"])
        if drop_prefix and path[:1] == [drop_prefix]:
            path = path[1:]
        loc = ".".join(str(p) for p in path)
        msg = err["msg"].removeprefix("Value error, ")
        given = err.get("input")
        shown = "" if isinstance(given, dict | list) or given is None else f" (reçu : {given!r})"
        parts.append(f"{loc or 'request'}: {msg}{shown}")
    return "; ".join(parts)


def request_from_json(data: Any) -> AnalysisRequest:
    if not isinstance(data, dict):
        raise InvalidInput("the request must be a JSON object with 'patient' and 'medications'")
    try:
        return AnalysisRequest.model_validate(data)
    except ValidationError as exc:
        raise InvalidInput(describe_validation_error(exc)) from exc


def request_from_text(text: str) -> tuple[AnalysisRequest, ParsedOrdonnance]:
    parsed = parse_ordonnance_text(text)
    return request_from_parsed(parsed), parsed


def request_from_parsed(
    parsed: ParsedOrdonnance, *, extra_patient: dict[str, Any] | None = None, source: str = "the ordonnance"
) -> AnalysisRequest:
    """The request of a parsed ordonnance; ``extra_patient`` completes or corrects its header."""
    if not parsed.lines:
        raise InvalidInput(
            f"no drug line found in {source}: write one drug per line "
            "(e.g. '1) SIMVASTATINE 40 mg : 1 cp le soir')"
        )
    patient = {**parsed.patient, **(extra_patient or {})}
    if patient.get("age") is None and patient.get("birth_date") is None:
        raise InvalidInput(
            f"patient age not found in {source}: add a line such as "
            "'Mme DUPONT, 84 ans' or 'née le 04/05/1941' to the header, or give the age with the request"
        )
    meds = medications_from_parsed(parsed)
    try:
        return AnalysisRequest.model_validate({"patient": patient, "medications": meds})
    except ValidationError as exc:
        raise InvalidInput(describe_validation_error(exc)) from exc


def medications_from_parsed(parsed: ParsedOrdonnance) -> list[MedicationInput]:
    return [
        # A posology on its own lines is parsed on its own: joined to the name, the strength
        # of "MACROGOL 4000 10 g ; 1 sachet par jour" would read as 4000 units.
        MedicationInput(
            text=line.text[:500],
            posology=line.posology_text[:500] if line.continued and line.posology_text else None,
        )
        for line in parsed.lines
    ]


def read_request_file(path: Path) -> AnalysisRequest:
    suffix = path.suffix.lower()
    if suffix not in TEXT_SUFFIXES | JSON_SUFFIXES:
        raise UnsupportedInput(
            f"{path.name}: unsupported file type {suffix or '(none)'}; "
            "give a structured request (.json) or an ordonnance as text (.txt)"
        )
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise InvalidInput(f"cannot read {path}: {exc.strerror}") from exc
    return read_request_bytes(raw, suffix, name=path.name)


def read_request_bytes(raw: bytes, suffix: str, *, name: str = "input") -> AnalysisRequest:
    if len(raw) > MAX_INPUT_BYTES:
        raise InputTooLarge(f"{name}: {len(raw)} bytes, the limit is {MAX_INPUT_BYTES}")
    if not raw.strip():
        raise InvalidInput(f"{name}: the file is empty")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        if suffix in JSON_SUFFIXES:
            raise MalformedInput(f"{name}: JSON must be UTF-8 encoded") from None
        text = raw.decode("cp1252", errors="replace")
    if suffix in JSON_SUFFIXES:
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise MalformedInput(
                f"{name}: malformed JSON at line {exc.lineno}, column {exc.colno}: {exc.msg}"
            ) from exc
        return request_from_json(data)
    return request_from_text(text)[0]
