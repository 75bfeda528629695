"""`python manage.py createapikey <username> [--name N] [--scopes s1 s2 …] [--create-user]`
prints the new key alone on the last line of stdout."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from accounts.models import SCOPES, User
from accounts.services import apikey_create
from core.errors import ApiError


class Command(BaseCommand):
    help = "Create an API key for a user and print it (shown once)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("username")
        parser.add_argument("--name", default="cli")
        parser.add_argument("--scopes", nargs="*", default=None, help=f"any of {', '.join(SCOPES)}, or all (default)")
        parser.add_argument("--create-user", action="store_true", help="create the user (unusable password) if missing")

    def handle(self, *args: Any, **options: Any) -> None:
        username = options["username"]
        user = User.objects.filter(username=username).first()
        if user is None:
            if not options["create_user"]:
                raise CommandError(f"No user named {username!r} (use --create-user to make one).")
            user = User.objects.create_user(username=username)
        try:
            new = apikey_create(user=user, name=options["name"], scopes=options["scopes"])
        except ApiError as exc:
            raise CommandError(exc.message) from exc
        self.stderr.write(
            f"Created key {new.api_key.prefix} for {username} with scopes {', '.join(new.api_key.scopes)}."
        )
        self.stdout.write(new.plaintext)
