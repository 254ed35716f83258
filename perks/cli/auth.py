"""`perks user create`, `perks token create|list|revoke`: brand users and their API tokens."""

import os

import click

from perks.auth import ROLES
from perks.cli.support import echo_json, json_option, prepared_session, with_appcontext


@click.group("user")
def user_group() -> None:
    """Manage brand users."""


@user_group.command("create")
@click.argument("email")
@click.option("--brand", required=True, help="The brand's name; created if new.")
@click.option("--role", type=click.Choice(ROLES), default="manager", show_default=True)
@json_option
@with_appcontext
def user_create_command(email: str, brand: str, role: str, as_json: bool) -> None:
    """Create a brand user; the password comes from PERKS_PASSWORD or a prompt."""
    from flask import current_app

    from perks.auth.users import UserError, create_user, get_or_create_brand

    password = os.environ.get("PERKS_PASSWORD") or click.prompt(
        "Password", hide_input=True, confirmation_prompt=True)
    with prepared_session() as session:
        try:
            brand_row = get_or_create_brand(session=session, name=brand)
            user = create_user(session=session, email=email, password=password, brand=brand_row,
                               role=role, hash_method=current_app.config["PASSWORD_HASH_METHOD"])
        except UserError as error:
            raise click.ClickException(str(error)) from None
        session.commit()
        created = {"email": user.email, "brand": brand_row.name, "role": user.role}
    if as_json:
        echo_json(created)
    else:
        click.echo(f"Created {created['email']} ({created['role']}) for {created['brand']}")


def _existing_user(session, email: str):
    from perks.auth.users import find_user

    user = find_user(session=session, email=email)
    if user is None:
        raise click.ClickException(f"no user with the email {email}")
    return user


@user_group.command("password")
@click.argument("email")
@with_appcontext
def user_password_command(email: str) -> None:
    """Set a user's password (PERKS_PASSWORD or a prompt); ends all their sessions."""
    from flask import current_app

    from perks.auth.users import UserError, set_password

    password = os.environ.get("PERKS_PASSWORD") or click.prompt(
        "New password", hide_input=True, confirmation_prompt=True)
    with prepared_session() as session:
        try:
            set_password(session=session, user=_existing_user(session, email), password=password,
                         hash_method=current_app.config["PASSWORD_HASH_METHOD"])
        except UserError as error:
            raise click.ClickException(str(error)) from None
        session.commit()
    click.echo(f"Password of {email} changed; every session of it has ended.")


@user_group.command("deactivate")
@click.argument("email")
@with_appcontext
def user_deactivate_command(email: str) -> None:
    """Stop a user from logging in; ends their sessions, and their API tokens stop working."""
    from perks.auth.users import deactivate

    with prepared_session() as session:
        deactivate(session=session, user=_existing_user(session, email))
        session.commit()
    click.echo(f"{email} is deactivated.")


@click.group("token")
def token_group() -> None:
    """API tokens for /api/v1 (stored hashed; the token is printed once)."""


@token_group.command("create")
@click.argument("email")
@click.option("--name", required=True, help="What the token is for.")
@with_appcontext
def create_command(email: str, name: str) -> None:
    """Create a token for EMAIL and print it (only this once)."""
    from perks.auth.tokens import TokenError, create_token
    from perks.auth.users import find_user

    with prepared_session() as session:
        user = find_user(session=session, email=email)
        if user is None:
            raise click.ClickException(f"no user {email}")
        try:
            created = create_token(session=session, user=user, name=name)
        except TokenError as error:
            raise click.ClickException(str(error)) from None
        session.commit()
        click.echo(f"token {created.token.id} for {user.email} ({user.role}); copy it now, "
                   "it is not shown again:", err=True)
        click.echo(created.secret)


@token_group.command("list")
@click.argument("email")
@with_appcontext
def list_command(email: str) -> None:
    """EMAIL's tokens: id, name, prefix, created, last used, revoked."""
    from perks.auth.tokens import list_tokens
    from perks.auth.users import find_user

    with prepared_session() as session:
        user = find_user(session=session, email=email)
        if user is None:
            raise click.ClickException(f"no user {email}")
        for token in list_tokens(session=session, user_id=user.id):
            click.echo(f"{token.id}\t{token.name}\t{token.prefix}…\t{token.created_at:%Y-%m-%d}"
                       f"\t{token.last_used_at or 'never'}\t"
                       f"{'revoked' if token.revoked_at else 'active'}")


@token_group.command("revoke")
@click.argument("token_id", type=int)
@with_appcontext
def revoke_command(token_id: int) -> None:
    """Revoke token TOKEN_ID: the API refuses it from the next request on."""
    from perks.auth.tokens import TokenError, revoke_token

    with prepared_session() as session:
        try:
            token = revoke_token(session=session, token_id=token_id)
        except TokenError as error:
            raise click.ClickException(str(error)) from None
        session.commit()
        click.echo(f"token {token.id} ({token.name}) revoked")


COMMANDS = [user_group, token_group]
