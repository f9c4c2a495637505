"""What the public sign-up and preferences forms accept."""

from __future__ import annotations

from typing import Literal

from email_validator import EmailNotValidError, validate_email
from pydantic import BaseModel, ConfigDict, Field, field_validator

from service.errors import invalid
from service.inputs import Categories

Frequency = Literal["each", "daily", "weekly"]
MAX_ADDRESS = 254  # RFC 5321's path limit


class AddressForm(BaseModel):
    """A reader's address, as every reader form takes it (/subscribe/manage as it is)."""

    model_config = ConfigDict(extra="ignore", str_strip_whitespace=True)

    email: str = Field(max_length=MAX_ADDRESS)

    @field_validator("email")
    @classmethod
    def _address(cls, value: str) -> str:
        try:
            normalised = validate_email(value, check_deliverability=False).normalized
        except EmailNotValidError as exc:
            raise invalid("email", reason=str(exc)) from None
        # One reader, one address: mailbox names are case-insensitive in practice (listmonk: LOWER(email)).
        return normalised.lower()


class SignupForm(AddressForm):
    """The /subscribe form. ``website`` is the honeypot: people never see it, bots fill it."""

    categories: Categories = Field(default_factory=list)
    frequency: Frequency = "each"
    consent: bool = False
    locale: Literal["vi", "en"] = "vi"
    website: str = ""

    @field_validator("consent")
    @classmethod
    def _consented(cls, value: bool) -> bool:
        if not value:
            raise invalid("consent_needed")
        return value

    @property
    def domain(self) -> str:
        """The address's domain (after the last ``@``), for the cap on pending sign-ups per domain."""
        return self.email.rsplit("@", 1)[1]


class PreferencesForm(BaseModel):
    model_config = ConfigDict(extra="ignore")

    action: Literal["save", "pause", "resume", "unsubscribe"] = "save"
    categories: Categories = Field(default_factory=list)
    frequency: Frequency = "each"
