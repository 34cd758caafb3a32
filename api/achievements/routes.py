"""Achievements: /api/v1/achievements (the catalogue, with what the learner unlocked)."""
from __future__ import annotations

import marshmallow as ma
from flask_smorest import Blueprint

from api.auth import signed_in
from api.auth.tokens import current_user_id
from api.extensions import db
from domain import achievements

blp = Blueprint("achievements", __name__, url_prefix="/api/v1/achievements", description="Achievements")


class AchievementSchema(ma.Schema):
    code = ma.fields.String(metadata={"example": "first_turn"})
    title = ma.fields.String()
    description = ma.fields.String()
    unlocked_at = ma.fields.String(allow_none=True, metadata={"description": "null: not unlocked yet"})


class AchievementListSchema(ma.Schema):
    achievements = ma.fields.List(ma.fields.Nested(AchievementSchema))


@blp.get("")
@signed_in(blp)
@blp.response(200, AchievementListSchema)
def list_achievements():
    """Every achievement of the catalogue, with when the learner unlocked it. New ones
    are pushed as `achievement_unlocked` events."""
    return {"achievements": achievements.listing(db(), user_id=current_user_id())}
