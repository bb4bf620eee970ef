"""The `yundian` console command: Django's management commands plus short names.

    yundian demo            migrate, load demo data, start server + worker, print URL and logins
    yundian seed --scale N  generate an enterprise of any size
    yundian worker          run the task worker (db_worker)
    yundian serve           run the web server
    yundian <any manage.py command>
"""
import os
import sys

ALIASES = {"worker": "db_worker", "serve": "runserver", "check-ledgers": "check_ledgers"}


def main(argv: list[str] | None = None) -> None:
    argv = list(sys.argv if argv is None else argv)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.base")
    if len(argv) > 1:
        argv[1] = ALIASES.get(argv[1], argv[1])
    if len(argv) > 1 and argv[1] == "demo":
        # the demo is a development server on a fresh clone: settings read DEBUG / SECRET_KEY once, at import
        os.environ.setdefault("DEBUG", "1")
        os.environ.setdefault("SECRET_KEY", "dev-only-demo-not-secret")
    from django.core.management import execute_from_command_line

    execute_from_command_line(["yundian", *argv[1:]])


if __name__ == "__main__":
    main()
