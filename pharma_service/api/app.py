"""FastAPI application: the knowledge base is loaded once in the lifespan."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Annotated, Any, Literal

from fastapi import Depends, FastAPI, File, Form, Header, Request, Response, UploadFile
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse

from pharma_service.engine.kb import KnowledgeBase
from pharma_service.errors import InputTooLarge, InvalidInput, PharmaError, UnsupportedInput
from pharma_service.inputs import describe_errors
from pharma_service.models import Analysis, AnalysisRequest
from pharma_service.ocr.documents import MAX_UPLOAD_BYTES
from pharma_service.ocr.engine import OcrEngine
from pharma_service.ocr.pipeline import PrescriptionResult, analyse_prescription
from pharma_service.plan.render import FORMATS, render
from pharma_service.service import Engine, analyse_request, plan_request

UPLOAD_PAGE = Path(__file__).resolve().parents[1] / "web" / "index.html"


def get_engine(request: Request) -> Engine:
    engine: Engine = request.app.state.engine
    return engine


EngineDep = Annotated[Engine, Depends(get_engine)]


def get_ocr(request: Request) -> OcrEngine:
    """The OCR engine, started on first use so that the API runs (without scans) where
    Tesseract is not installed; the error then names the packages to install."""
    if request.app.state.ocr is None:
        from pharma_service.ocr.engine import TesseractEngine

        request.app.state.ocr = TesseractEngine()
    ocr: OcrEngine = request.app.state.ocr
    return ocr


OcrDep = Annotated[OcrEngine, Depends(get_ocr)]


def get_second_reader(request: Request) -> OcrEngine | None:
    """The handwriting reader, made on first use (its models load on its first page)."""
    if request.app.state.second_reader == "default":
        from pharma_service.ocr.handwriting import default_second_reader

        request.app.state.second_reader = default_second_reader(request.app.state.engine.kb.referential)
    reader: OcrEngine | None = request.app.state.second_reader
    return reader


SecondReaderDep = Annotated[OcrEngine | None, Depends(get_second_reader)]


def create_app(
    engine: Engine | None = None,
    ocr: OcrEngine | None = None,
    second_reader: OcrEngine | Literal["default"] | None = "default",
) -> FastAPI:
    """``ocr`` defaults to Tesseract, started on first use; ``second_reader`` re-reads pages
    Tesseract reads poorly (handwriting) and defaults, with the default ``ocr`` only, to
    handwriting.default_second_reader()."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        app.state.engine = engine or Engine.load()
        app.state.ocr = ocr
        # A caller's own OCR engine (a fake in tests) gets no second reader unless given one.
        app.state.second_reader = None if ocr is not None and second_reader == "default" else second_reader
        yield

    app = FastAPI(
        title="pharma-service",
        version="0.1.0",
        summary="Medication review for older patients (French prescriptions, ANSM interactions).",
        lifespan=lifespan,
    )

    @app.exception_handler(PharmaError)
    async def pharma_error(_: Request, exc: PharmaError) -> JSONResponse:
        return JSONResponse(exc.as_dict(), status_code=exc.http_status)

    @app.exception_handler(RequestValidationError)
    async def validation_error(_: Request, exc: RequestValidationError) -> JSONResponse:
        errors = exc.errors()
        if any(err.get("type") == "json_invalid" for err in errors):
            ctx = errors[0].get("ctx", {})
            return JSONResponse(
                {
                    "code": "malformed_input",
                    "message": f"malformed JSON: {ctx.get('error', 'cannot parse the body')}",
                },
                status_code=400,
            )
        if any(err.get("loc") == ("body",) and err.get("type") == "missing" for err in errors):
            return JSONResponse(
                {
                    "code": "malformed_input",
                    "message": "empty request body: send a JSON object with 'patient' and 'medications'",
                },
                status_code=400,
            )
        return JSONResponse(
            {"code": "invalid_input", "message": describe_errors(errors, drop_prefix="body")},
            status_code=422,
        )

    @app.get("/", response_class=HTMLResponse, include_in_schema=False)
    def upload_page() -> HTMLResponse:
        """The pharmacists' page: upload an ordonnance, check what was read, correct, analyse."""
        return HTMLResponse(UPLOAD_PAGE.read_text(encoding="utf-8"))

    @app.get("/v1/health")
    def health(engine: EngineDep) -> dict[str, Any]:
        return {"status": "ok", "knowledge": dict(engine.kb.versions)}

    @app.get("/v1/knowledge")
    def knowledge(engine: EngineDep) -> dict[str, Any]:
        return knowledge_summary(engine.kb)

    @app.post("/v1/analyses", response_model=Analysis)
    def create_analysis(body: AnalysisRequest, engine: EngineDep) -> Analysis:
        return analyse_request(body, engine=engine)

    @app.post(
        "/v1/ppp",
        responses={200: {"content": {"application/json": {}, "text/html": {}, "application/pdf": {}}}},
    )
    def create_ppp(
        body: AnalysisRequest, engine: EngineDep, accept: Annotated[str, Header()] = ""
    ) -> Response:
        """The PPP as JSON (default), HTML or PDF, following the Accept header."""
        fmt = _negotiate(accept)
        document = render(plan_request(body, engine=engine), fmt)
        return Response(document, media_type=FORMATS[fmt])

    @app.post("/v1/prescriptions", response_model=PrescriptionResult)
    def create_prescription(
        engine: EngineDep,
        ocr: OcrDep,
        second_reader: SecondReaderDep,
        file: Annotated[UploadFile, File(description="Scan or photo (PNG, JPEG, HEIC, TIFF, WebP) or PDF.")],
        patient: Annotated[
            str | None,
            Form(description='Patient facts the ordonnance lacks, as JSON, e.g. {"age": 84, "sex": "F"}.'),
        ] = None,
    ) -> PrescriptionResult:
        """Read an ordonnance (OCR) and analyse it: the analysis, and what was read line by line."""
        raw = file.file.read(MAX_UPLOAD_BYTES + 1)
        name = file.filename or "upload"
        if len(raw) > MAX_UPLOAD_BYTES:
            raise InputTooLarge(
                f"{name}: over {MAX_UPLOAD_BYTES:,} bytes; scan at 300 dpi or send a smaller photo"
            )
        return analyse_prescription(
            raw,
            name=name,
            ocr=ocr,
            engine=engine,
            patient=_patient_form(patient),
            second_reader=second_reader,
        )

    return app


def _patient_form(value: str | None) -> dict[str, Any] | None:
    if value is None or not value.strip():
        return None
    try:
        data = json.loads(value)
    except json.JSONDecodeError as exc:
        raise InvalidInput(f'patient: malformed JSON ({exc.msg}); e.g. {{"age": 84, "sex": "F"}}') from exc
    if not isinstance(data, dict):
        raise InvalidInput('patient: expected a JSON object, e.g. {"age": 84}')
    return data


def knowledge_summary(kb: KnowledgeBase) -> dict[str, Any]:
    """Sources, versions, sizes and verification status of everything loaded."""
    sources: list[dict[str, Any]] = [
        {
            "pack": "referential",
            "label": "Base de données publique des médicaments (BDPM)",
            "version": kb.referential.version,
            "specialties": len(kb.referential.specialties),
            "substances": len(kb.referential.substances),
        },
        {
            "pack": "ansm_interactions",
            "label": "ANSM Thésaurus des interactions médicamenteuses",
            "version": kb.versions["ansm_interactions"],
            "rules": len(kb.interactions),
        },
        {
            "pack": "duplications",
            "label": kb.duplications.source,
            "version": kb.duplications.version,
            "rules": len(kb.duplications.classes) + 1,
        },
    ]
    for pack in kb.criteria_packs:
        sources.append(
            {
                "pack": pack.pack,
                "label": pack.source.label,
                "version": pack.source.version,
                "citation": pack.source.citation,
                "rules": len(pack.criteria),
                "verification": pack.source.verification,
            }
        )
    for scale in kb.scales:
        sources.append(
            {
                "pack": f"anticholinergic:{scale.info.id}",
                "label": scale.info.label,
                "version": scale.info.version,
                "rules": len(scale.scores),
                "complete": scale.info.complete,
            }
        )
    sources.append(
        {
            "pack": "qt",
            "label": kb.qt.risk.tisdale.label,
            "version": kb.qt.risk.tisdale.id,
            "rules": len(kb.qt.categories),
        }
    )
    sources.append(
        {
            "pack": "cyp",
            "label": "Méthode CR/IR (Ohno 2007)",
            "version": "1",
            "rules": len(kb.cyp.substrates) + len(kb.cyp.inhibitors) + len(kb.cyp.inducers),
        }
    )
    sources.append(
        {
            "pack": "vaccines",
            "label": kb.vaccines.source.label,
            "version": kb.vaccines.version,
            "rules": len(kb.vaccines.entries),
        }
    )
    sources.append(
        {
            "pack": "eligibility",
            "label": "Programmes de revue de médication",
            "version": "2026",
            "rules": len(kb.programmes),
        }
    )
    return {"versions": dict(kb.versions), "sources": sources}


def _negotiate(accept: str) -> str:
    """json unless the client asks for HTML or PDF; anything else it insists on is a 406."""
    wanted = [part.split(";")[0].strip().lower() for part in accept.split(",") if part.strip()]
    for media in wanted:
        for fmt, media_type in FORMATS.items():
            if media == media_type:
                return fmt
        if media in {"*/*", "application/*", "text/*"}:
            return "json"
    if not wanted:
        return "json"
    raise NotAcceptable(f"cannot produce {accept!r}: ask for application/json, text/html or application/pdf")


class NotAcceptable(UnsupportedInput):
    code = "not_acceptable"
    http_status = 406
