import random

from django.db import migrations, models

NAMES = ("org", "catalog", "prices", "warehouses", "promotions", "members.programme", "guides.plans")


def create_versions(apps, schema_editor):
    CacheVersion = apps.get_model("core", "CacheVersion")
    CacheVersion.objects.bulk_create([CacheVersion(name=n, version=random.getrandbits(40)) for n in NAMES],
                                     ignore_conflicts=True)


class Migration(migrations.Migration):

    dependencies = [
        ("core", "0004_audit_verbose_names"),
    ]

    operations = [
        migrations.CreateModel(
            name="CacheVersion",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("name", models.CharField(max_length=40, unique=True)),
                ("version", models.BigIntegerField(default=0)),
            ],
        ),
        migrations.RunPython(create_versions, migrations.RunPython.noop),
    ]
