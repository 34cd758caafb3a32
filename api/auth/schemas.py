from __future__ import annotations

import marshmallow as ma
from marshmallow import validate

from domain.cefr import ACCEPTED_LEVELS
from domain.languages import CODE_PATTERN

_level = ma.fields.String(validate=validate.OneOf(ACCEPTED_LEVELS))
_language = ma.fields.String(
    validate=validate.Regexp(CODE_PATTERN, error="Use a two- or three-letter ISO 639 code."))
_password = ma.fields.String(required=True, load_only=True, validate=validate.Length(min=8, max=128))


class UserSchema(ma.Schema):
    id = ma.fields.UUID(dump_only=True)
    email = ma.fields.Email(dump_only=True)
    display_name = ma.fields.String()
    target_language = ma.fields.String()
    native_language = ma.fields.String(allow_none=True)
    level = ma.fields.String()
    timezone = ma.fields.String()
    role = ma.fields.String(dump_only=True)
    email_verified = ma.fields.Boolean(dump_only=True, metadata={
        "description": "whether the address was confirmed with the mailed link (accounts made before "
                       "verification existed, or by an operator, count as confirmed)"})
    xp = ma.fields.Integer(dump_only=True)
    desired_retention = ma.fields.Float(metadata={"description": "the recall probability reviews aim for"})
    share_letters_with_teachers = ma.fields.Boolean(metadata={
        "description": "the teachers of the learner's classes may read their penpal letters (off by default)"})
    created_at = ma.fields.DateTime(dump_only=True)


class RegisterSchema(ma.Schema):
    email = ma.fields.Email(required=True, validate=validate.Length(max=254))
    password = _password
    display_name = ma.fields.String(required=True, validate=validate.Length(min=1, max=80))
    target_language = ma.fields.String(load_default="fr", validate=validate.Regexp(CODE_PATTERN))
    native_language = ma.fields.String(load_default=None, allow_none=True, validate=validate.Regexp(CODE_PATTERN))
    level = ma.fields.String(load_default="A1", validate=validate.OneOf(ACCEPTED_LEVELS))
    timezone = ma.fields.String(load_default="UTC", validate=validate.Length(max=64))


class LoginSchema(ma.Schema):
    email = ma.fields.String(required=True, validate=validate.Length(min=1, max=254))
    password = ma.fields.String(required=True, load_only=True, validate=validate.Length(min=1, max=128))


class ProfileUpdateSchema(ma.Schema):
    display_name = ma.fields.String(validate=validate.Length(min=1, max=80))
    target_language = _language
    native_language = ma.fields.String(allow_none=True, validate=validate.Regexp(CODE_PATTERN))
    level = _level
    timezone = ma.fields.String(validate=validate.Length(max=64))
    desired_retention = ma.fields.Float(validate=validate.Range(min=0.7, max=0.99), metadata={
        "description": "the recall probability FSRS schedules for (0.70 to 0.99; higher means more reviews)"})
    share_letters_with_teachers = ma.fields.Boolean(truthy={True}, falsy={False}, metadata={
        "description": "let the teachers of your classes read your penpal letters; false hides them again"})


class PasswordChangeSchema(ma.Schema):
    current_password = ma.fields.String(required=True, load_only=True)
    new_password = _password


class TokensSchema(ma.Schema):
    user = ma.fields.Nested(UserSchema)
    access_token = ma.fields.String()
    refresh_token = ma.fields.String()


class RegisteredSchema(TokensSchema):
    """The new account, and its tokens unless it must confirm its address first."""

    verification_required = ma.fields.Boolean(metadata={
        "description": "true when REQUIRE_EMAIL_VERIFICATION is on: no tokens yet; open the mailed link "
                       "(POST /auth/email/verify), then log in"})


class RefreshedTokensSchema(ma.Schema):
    """New tokens of the same login (refresh) or of a new one (password change)."""
    access_token = ma.fields.String()
    refresh_token = ma.fields.String()
