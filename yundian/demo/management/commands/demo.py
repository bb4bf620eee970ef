"""`yundian demo [--port 8000] [--no-server]`: migrate, load the demo chain once, start web server + task worker +
scheduler, print the URL and the demo logins; Ctrl-C (or SIGTERM) stops all three.

The demo runs with DEBUG=1 and a development SECRET_KEY unless they are set (yundian/cli.py sets them before
settings load; the children inherit them) and uses the embedded SQLite in YUNDIAN_DATA (./var by default)
unless DATABASE_URL is set.
"""
from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError
from django.db import connections
from django.utils.translation import gettext as _

from yundian.analytics.management.commands.warehouse import Progress
from yundian.analytics.sync import sync_run
from yundian.demo.generators.staffing import plan_demo_week
from yundian.demo.management.commands.seed import format_table
from yundian.demo.selectors import demo_logins
from yundian.demo.services import BACK_OFFICE_LOGIN, DEMO_PASSWORD, demo_load
from yundian.demo.supervisor import Child, Supervisor, child_env, port_answers, port_is_free, yundian_argv

READY_TIMEOUT_SECONDS = 60


class Command(BaseCommand):
    help = "Migrate, load the demo chain, start the web server, task worker and scheduler; print URL and logins."

    def add_arguments(self, parser):
        parser.add_argument("--port", type=int, default=8000)
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--no-server", action="store_true", help="migrate and load the demo data, then exit")

    def handle(self, *args, port, host, no_server, **options):
        if not no_server and not port_is_free(host, port):
            raise CommandError(_("Port %(port)s on %(host)s is in use; choose another with --port.")
                               % {"port": port, "host": host})
        call_command("migrate", interactive=False, verbosity=0)
        created = demo_load()
        self.stdout.write(_("Demo data loaded.") if created else _("Demo data already present."))
        # the analytics warehouse (DuckDB) reads the year of history once here; the scheduler then syncs every minute
        self.stdout.write(_("Filling the analytics warehouse…"))
        progress = Progress(self.stdout)
        result = sync_run(progress=progress)
        progress.done()
        self.stdout.write(_("Warehouse ready: %(rows)s rows.") % {"rows": f"{result.total:,}"})
        if plan_demo_week():  # this week's shift plans, from the forecast on that history
            self.stdout.write(_("Shift plans ready."))
        logins = demo_logins()
        if no_server:
            self.print_logins(logins, url=None)
            return
        connections.close_all()  # the children open their own connections
        url = f"http://{host}:{port}/"
        supervisor = Supervisor(
            [
                Child("web", yundian_argv("runserver", f"{host}:{port}", "--noreload")),
                Child("worker", yundian_argv("db_worker", "--queue-name", "*", "--no-reload", "--interval", "1")),
                Child("scheduler", yundian_argv("scheduler")),
            ],
            env=child_env({"YUNDIAN_DATA": str(settings.DATA_DIR)}),
        )
        exited = None
        try:
            supervisor.start()
            if supervisor.wait_until(lambda: port_answers(host, port), READY_TIMEOUT_SECONDS):
                self.print_logins(logins, url=url)
                self.stdout.write(", ".join(f"{c.name} pid {c.process.pid}" for c in supervisor.children))
                self.stdout.write(_("Press Ctrl-C to stop."))
                exited = supervisor.watch()
            else:
                exited = supervisor.first_exit()
                if exited is None and supervisor.stop_signal is None:
                    self.stderr.write(_("The web server did not answer within %(seconds)s s.")
                                      % {"seconds": READY_TIMEOUT_SECONDS})
                    raise CommandError(_("The demo did not start."))
        finally:
            supervisor.stop()
        if exited is not None:
            raise CommandError(_("%(name)s stopped unexpectedly (exit code %(code)s); the demo was shut down.")
                               % {"name": exited.name, "code": exited.process.returncode})
        self.stdout.write(_("Demo stopped."))

    def first_storefront(self) -> str:
        from yundian.stores.models import StoreProfile

        return StoreProfile.objects.order_by("node_id").values_list("slug", flat=True).first() or ""

    def print_logins(self, logins: list[dict[str, str]], url: str | None) -> None:
        self.stdout.write("")
        if url:
            self.stdout.write(_("Yundian demo is running at %(url)s") % {"url": url})
            self.stdout.write(_("API docs: %(url)sapi/v1/docs") % {"url": url})
            storefront = self.first_storefront()
            if storefront:
                self.stdout.write(_("A store's cloud storefront (deals, cart, member sign-in; the sign-in code is "
                                    "printed in this log): %(url)ss/%(slug)s/") % {"url": url, "slug": storefront})
        rows = [[login["role"], login["username"], DEMO_PASSWORD, login["where"]] for login in logins]
        self.stdout.write(format_table([_("role"), _("username"), _("password"), _("works at")], rows, align="llll"))
        self.stdout.write(_("Back office (Django admin): %(url)sadmin/ — sign in as %(username)s") % {
            "url": url or "/", "username": BACK_OFFICE_LOGIN})
        self.stdout.write("")
