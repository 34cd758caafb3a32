"""Anki export and import: /api/v1/anki (domain/anki.py)."""
from __future__ import annotations

import marshmallow as ma
from flask import Response, request
from flask_smorest import Blueprint

from api.auth import signed_in
from api.auth.tokens import current_user_id
from api.errors import ErrorSchema, documents_errors
from api.extensions import db
from domain import anki
from domain.config import get_settings
from domain.errors import Invalid
from workers.dispatch import dispatch_best_effort

blp = Blueprint("anki", __name__, url_prefix="/api/v1/anki",
                description="Anki: the learner's cards out as an .apkg deck or CSV, and decks or CSV in")

_MEDIA_TYPES = {"apkg": "application/apkg", "csv": "text/csv; charset=utf-8"}
# Room for the multipart envelope around a file of ANKI_IMPORT_MAX_BYTES.
_MULTIPART_ROOM = 64 * 1024


class ExportArgsSchema(ma.Schema):
    format = ma.fields.String(load_default="apkg", validate=ma.validate.OneOf(anki.FORMATS),
                              metadata={"description": "apkg (an Anki deck) or csv (front,back,reviews,kind)"})


class ImportSchema(ma.Schema):
    id = ma.fields.String()
    format = ma.fields.String()
    filename = ma.fields.String()
    size_bytes = ma.fields.Integer()
    status = ma.fields.String(metadata={"description": "queued, running, done or failed"})
    result = ma.fields.Dict(allow_none=True, metadata={
        "description": "notes, matched, cards_created, own_words_added, reviews_replayed, reviews_skipped "
                       "(while queued: notes and done)"})
    error = ma.fields.Dict(allow_none=True, metadata={"description": "code and message of a failed import"})
    created_at = ma.fields.String()
    finished_at = ma.fields.String(allow_none=True)


@blp.get("/export")
@signed_in(blp)
@blp.arguments(ExportArgsSchema, location="query")
@blp.doc(responses={200: {"description": "The file: an .apkg (decks Parlons and Parlons::Errors) or a CSV",
                          "content": {"application/apkg": {}, "text/csv": {}}}})
def export(args: dict):
    """The learner's vocabulary cards (with their review history), own words and error
    cards, as an Anki deck or CSV, to download."""
    cards = anki.cards_to_export(db(), user_id=current_user_id())
    fmt = args["format"]
    body = anki.to_apkg(cards) if fmt == "apkg" else anki.to_csv(cards)
    return Response(body, mimetype=_MEDIA_TYPES[fmt],
                    headers={"Content-Disposition": f'attachment; filename="parlons.{fmt}"',
                             "Cache-Control": "no-store"})


@blp.post("/imports")
@signed_in(blp)
@blp.response(200, ImportSchema, description="Imported in the request (status done)")
@blp.alt_response(202, schema=ImportSchema, description="A large file: queued for a task; follow "
                  "GET /api/v1/anki/imports/{id} or the import_progress events")
@blp.alt_response(422, schema=ErrorSchema, description="A bad file (not a zip, no collection, bad CSV, too "
                  "large), named by the error's code; nothing was imported")
@documents_errors(blp, 413)
@blp.doc(requestBody={"content": {"multipart/form-data": {"schema": {
    "type": "object", "required": ["file"],
    "properties": {"file": {"type": "string", "format": "binary"},
                   "format": {"type": "string", "enum": list(anki.FORMATS),
                              "description": "default: from the file name (.apkg or .csv), else from its content"}}}}}})
def import_file():
    """Import an .apkg or CSV into the learner's cards (multipart field `file`). Small
    files are imported now (200); large ones by a task (202)."""
    settings = get_settings()
    request.max_content_length = settings.anki_import_max_bytes + _MULTIPART_ROOM
    upload = request.files.get("file")
    if upload is None:
        raise Invalid("Send the file as the multipart field `file`.", code="anki_file_missing")
    data = upload.read()
    fmt = (request.form.get("format") or request.args.get("format") or _guess(upload.filename or "", data)).lower()
    record, queued = anki.start_import(db(), settings, user_id=current_user_id(), data=data, fmt=fmt,
                                       filename=upload.filename or "")
    presented = anki.present_import(record)
    db().commit()
    if queued:
        dispatch_best_effort(anki.OUTBOX_KIND, record.id)
        return presented, 202
    return presented


@blp.get("/imports/<import_id>")
@signed_in(blp)
@blp.response(200, ImportSchema)
@documents_errors(blp, 404)
def get_import(import_id: str):
    """One of the learner's imports: its status and what it did (another learner's: 404)."""
    return anki.present_import(anki.get_import(db(), user_id=current_user_id(), import_id=import_id))


def _guess(filename: str, data: bytes) -> str:
    lowered = filename.lower()
    if lowered.endswith(".apkg") or lowered.endswith(".colpkg"):
        return "apkg"
    if lowered.endswith(".csv") or lowered.endswith(".txt"):
        return "csv"
    return "apkg" if data[:4] == b"PK\x03\x04" else "csv"
