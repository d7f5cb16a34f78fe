"""Leave room in application pages so recomputing results is a HOT update on PostgreSQL.

Every computation rewrites an application row (results, breakdown); with full pages each
rewrite also inserts into every index of the table. With 40% of each page free, PostgreSQL
can keep the new version on the same page and skip the indexes, since no indexed column
changes. docs/benchmarks.md has the measurement.
"""

from django.db import migrations


def set_fillfactor(apps, schema_editor, value: int | None = 60) -> None:
    if schema_editor.connection.vendor != "postgresql":
        return
    if value is None:
        schema_editor.execute("ALTER TABLE subsidy_application RESET (fillfactor)")
    else:
        schema_editor.execute(f"ALTER TABLE subsidy_application SET (fillfactor = {int(value)})")


def reset_fillfactor(apps, schema_editor) -> None:
    set_fillfactor(apps, schema_editor, None)


class Migration(migrations.Migration):
    dependencies = [("subsidy", "0002_list_indexes")]

    operations = [migrations.RunPython(set_fillfactor, reset_fillfactor)]
