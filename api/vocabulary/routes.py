"""The French vocabulary: /api/v1/vocabulary."""
from __future__ import annotations

import marshmallow as ma
from flask_smorest import Blueprint

from api.auth import signed_in
from api.errors import documents_errors
from api.extensions import db
from api.pagination import PageArgsSchema, PageMetaSchema, page_meta
from domain import cefr
from domain.srs import vocabulary

blp = Blueprint("vocabulary", __name__, url_prefix="/api/v1/vocabulary", description="Vocabulary")


class WordSchema(ma.Schema):
    id = ma.fields.Integer()
    lemma = ma.fields.String()
    pos = ma.fields.String(metadata={"description": "part of speech: noun, verb, adjective..."})
    gender = ma.fields.String(allow_none=True, metadata={"description": "nouns: m, f or mf"})
    translation = ma.fields.String()
    frequency_rank = ma.fields.Integer(metadata={"description": "1 = the most frequent word"})
    cefr_level = ma.fields.String()
    example = ma.fields.String()


class WordPageSchema(ma.Schema):
    items = ma.fields.List(ma.fields.Nested(WordSchema))
    meta = ma.fields.Nested(PageMetaSchema)


class WordSearchArgsSchema(PageArgsSchema):
    q = ma.fields.String(validate=ma.validate.Length(min=1, max=64),
                         metadata={"description": "start of the French word (accents optional) or of a word of "
                                                  "its translation"})
    level = ma.fields.String(validate=ma.validate.OneOf(cefr.LEVELS))


@blp.get("")
@signed_in(blp)
@blp.arguments(WordSearchArgsSchema, location="query")
@blp.response(200, WordPageSchema)
def list_words(args: dict):
    """Words, most frequent first, optionally searched and kept to one CEFR level."""
    words, total = vocabulary.search(db(), q=args.get("q"), level=args.get("level"), page=args["page"],
                                     per_page=args["per_page"])
    return {"items": [vocabulary.present_word(w) for w in words],
            "meta": page_meta(page=args["page"], per_page=args["per_page"], total=total)}


@blp.get("/<id:word_id>")
@signed_in(blp)
@blp.response(200, WordSchema)
@documents_errors(blp, 404)
def get_word(word_id: int):
    """One word."""
    return vocabulary.present_word(vocabulary.get_word(db(), word_id))
