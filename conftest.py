"""Shared pytest fixtures. Tests run on SQLite by default and on PostgreSQL when DATABASE_URL is set."""
import pytest


@pytest.fixture(autouse=True)
def _fresh_caches():
    """Each test starts with empty per-process caches (core.cache): the test database is rolled back under their
    feet between tests, which never happens to committed data."""
    from yundian.core.cache import clear_all

    clear_all()
    yield
    clear_all()


@pytest.fixture
def chain(db):
    from yundian.org.tests.factories import make_chain

    return make_chain()


@pytest.fixture
def other_chain(db):
    from yundian.org.tests.factories import make_chain

    return make_chain("zeta")


@pytest.fixture
def api_client():
    from django.test import Client

    return Client()


def pytest_collection_modifyitems(config, items):
    from django.db import connection

    is_postgres = connection.vendor == "postgresql"
    skip_pg = pytest.mark.skip(reason="needs PostgreSQL (set DATABASE_URL)")
    for item in items:
        if "postgres_only" in item.keywords and not is_postgres:
            item.add_marker(skip_pg)


@pytest.fixture
def warehouse(settings, tmp_path):
    """A fresh, empty DuckDB warehouse for the test (settings.WAREHOUSE_PATH in a temporary folder)."""
    settings.WAREHOUSE_PATH = tmp_path / "warehouse.duckdb"
    return settings.WAREHOUSE_PATH


@pytest.fixture
def smtp(settings):
    """A real SMTP server on a free local port (aiosmtpd) with Django's SMTP backend pointed at it; yields the list
    of messages it received (email.message.Message)."""
    import socket

    from aiosmtpd.controller import Controller
    from aiosmtpd.handlers import Message

    received = []

    class Keep(Message):
        def handle_message(self, message):
            received.append(message)

    with socket.socket() as probe:  # a free port for the server
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    controller = Controller(Keep(), hostname="127.0.0.1", port=port)
    controller.start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = "127.0.0.1"
    settings.EMAIL_PORT = port
    settings.EMAIL_USE_TLS = False
    yield received
    controller.stop()
