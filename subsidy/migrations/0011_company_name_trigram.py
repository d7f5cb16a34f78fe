"""A trigram index on the company name as the search compares it (UPPER(name) LIKE '%…%'), on
PostgreSQL only: the workbench's and the API's search then find the matching companies in the
index instead of reading every company (docs/benchmarks.md, "Officers' pages"). pg_trgm is a
trusted extension (PostgreSQL 13+): the database's owner may create it."""

from django.db import migrations

CREATE = [
    "CREATE EXTENSION IF NOT EXISTS pg_trgm",
    "CREATE INDEX IF NOT EXISTS company_name_trigram ON subsidy_company "
    "USING gin (UPPER(name::text) gin_trgm_ops)",
]
DROP = ["DROP INDEX IF EXISTS company_name_trigram"]


def _run(statements):
    def run(apps, schema_editor):
        if schema_editor.connection.vendor != "postgresql":
            return
        for statement in statements:
            schema_editor.execute(statement)

    return run


class Migration(migrations.Migration):
    dependencies = [("subsidy", "0010_export_streamed")]

    operations = [migrations.RunPython(_run(CREATE), _run(DROP), elidable=False)]
