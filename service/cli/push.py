"""``bantin push keys``: make the VAPID key pair for Web Push (RFC 8292, decision 0041).

Prints the settings lines to keep with the other secrets (an env file, a Kubernetes Secret):
the private key signs every push; the public key is what browsers subscribe with, so a new
pair voids every browser subscription made for the old one.
"""

from __future__ import annotations

from typing import Annotated

import typer

from service.channels.web_push import new_vapid_keys

push_app = typer.Typer(help="Browser notifications (Web Push).", no_args_is_help=True)


@push_app.command("keys")
def keys(
    subject: Annotated[
        str, typer.Option(help="who push services may write to about our traffic: mailto: or https:// (RFC 8292 §2.1)")
    ] = "mailto:webmaster@example.com",
) -> None:
    """Make a fresh VAPID key pair and print the BANTIN_WEB_PUSH_* lines for the settings."""
    if not subject.startswith(("mailto:", "https://")):
        raise typer.BadParameter("a mailto: address or an https:// page", param_hint="--subject")
    private, public = new_vapid_keys()
    typer.echo("# Web Push (decision 0041): keep the private key with the other secrets.")
    typer.echo(f"BANTIN_WEB_PUSH_VAPID_PRIVATE_KEY={private}")
    typer.echo(f"BANTIN_WEB_PUSH_VAPID_PUBLIC_KEY={public}")
    typer.echo(f"BANTIN_WEB_PUSH_SUBJECT={subject}")
