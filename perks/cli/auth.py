"""`perks token create EMAIL --name N`, `perks token list EMAIL`, `perks token revoke ID`."""

import click
from flask.cli import with_appcontext

from perks import db
from perks.auth.tokens import TokenError, create_token, list_tokens, revoke_token
from perks.auth.users import find_user


@click.group("token")
def token_group() -> None:
    """API tokens for /api/v1 (stored hashed; the token is printed once)."""


def _prepared():
    engine = db.get_engine()
    db.prepare_database(engine)
    return db.session_scope(engine)


@token_group.command("create")
@click.argument("email")
@click.option("--name", required=True, help="What the token is for.")
@with_appcontext
def create_command(email: str, name: str) -> None:
    """Create a token for EMAIL and print it (only this once)."""
    with _prepared() as session:
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
    with _prepared() as session:
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
    with _prepared() as session:
        try:
            token = revoke_token(session=session, token_id=token_id)
        except TokenError as error:
            raise click.ClickException(str(error)) from None
        session.commit()
        click.echo(f"token {token.id} ({token.name}) revoked")


COMMANDS = [token_group]
