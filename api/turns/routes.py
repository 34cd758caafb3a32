"""Turn results, by id, with an optional long-poll."""
from __future__ import annotations

from flask_jwt_extended import get_jwt
from flask_smorest import Blueprint

from api.auth import signed_in
from api.auth.tokens import current_user_id
from api.errors import documents_errors
from api.extensions import close_db, db
from api.realtime.hub import hub
from api.realtime.watch import token_watch
from api.turns.schemas import TurnSchema, TurnWaitArgsSchema
from domain import revocation, turns
from domain.quotas import LONG_POLLS, get_quotas

blp = Blueprint("turns", __name__, url_prefix="/api/v1/turns", description="Turn results")


@blp.get("/<turn_id>")
@signed_in(blp)
@blp.arguments(TurnWaitArgsSchema, location="query")
@blp.response(200, TurnSchema)
@documents_errors(blp, 404, 429)
def get_turn(args: dict, turn_id: str):
    """A turn and its results. With `wait`, answers as soon as the turn finishes, or after `wait` seconds
    (a learner may have QUOTA_LONG_POLLS such waits at once: 429 past that)."""
    user_id = current_user_id()
    if args["wait"] <= 0:
        return turns.present_turn(turns.get_turn(db(), user_id=user_id, turn_id=turn_id))
    # Listen before reading, so a result published in between is not missed.
    with get_quotas().hold(user_id, LONG_POLLS, lease_seconds=int(args["wait"]) + 5), \
            hub().subscribe(str(user_id)) as events:
        turn = turns.get_turn(db(), user_id=user_id, turn_id=turn_id)
        if turn.status == "pending":
            close_db()  # hold no connection while waiting
            with token_watch().long_poll(revocation.TokenClaims.from_payload(get_jwt()), events) as poll:
                events.wait_for(lambda e: e.type == "turn_result" and e.data["turn"]["id"] == str(turn.id),
                                timeout=args["wait"])
            poll.raise_if_ended()
            turn = turns.get_turn(db(), user_id=user_id, turn_id=turn_id)
    return turns.present_turn(turn)
