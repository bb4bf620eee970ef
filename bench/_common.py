"""Shared by the in-process benchmarks (catalog_lookup.py, pricing_engine.py): Django set up on a throwaway SQLite
database in a temporary folder.

    with tempfile.TemporaryDirectory() as data_dir:
        setup_django(data_dir)
        ...   # import models and services only now
"""
import os


def setup_django(data_dir: str) -> None:
    """Set up Django (production settings, DEBUG off) on an embedded SQLite database in `data_dir`."""
    os.environ["YUNDIAN_DATA"] = data_dir
    os.environ.pop("DATABASE_URL", None)
    os.environ.setdefault("SECRET_KEY", "bench-only")
    os.environ["DEBUG"] = "0"  # DEBUG would record every query
    os.environ["DJANGO_SETTINGS_MODULE"] = "config.settings.base"
    import django

    django.setup()
