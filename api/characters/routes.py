"""The characters learners can talk to, read from prompts/characters/."""
from __future__ import annotations

import marshmallow as ma
from flask_smorest import Blueprint

from api.auth import signed_in
from api.runtime import characters

blp = Blueprint("characters", __name__, url_prefix="/api/v1/characters", description="Characters")


class CharacterSchema(ma.Schema):
    id = ma.fields.String()
    name = ma.fields.String()
    description = ma.fields.String()
    target_language = ma.fields.String()
    voice = ma.fields.String()
    setting = ma.fields.String()
    levels = ma.fields.List(ma.fields.String(), metadata={"description": "CEFR levels with their own prompt"})


@blp.get("")
@signed_in(blp)
@blp.response(200, CharacterSchema(many=True))
def list_characters():
    """Every character, with the levels it has prompts for."""
    return [character.to_dict() for character in characters().all()]
