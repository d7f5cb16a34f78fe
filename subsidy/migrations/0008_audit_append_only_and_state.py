"""Audit entries record an application's state; PostgreSQL refuses UPDATE and DELETE on them.

A row trigger, so TRUNCATE (what a test database's flush uses) still works; the table's owner
can still disable the trigger, which is why the chain is sealed and anchored outside the
database as well (subsidy/audit.py). SQLite: nothing.
"""

from django.db import migrations, models

CREATE = (
    """
CREATE OR REPLACE FUNCTION subsidy_auditentry_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'audit entries are append-only: % refused on entry %', TG_OP, OLD.seq
        USING ERRCODE = 'insufficient_privilege';
END;
$$ LANGUAGE plpgsql
""",
    """
CREATE TRIGGER subsidy_auditentry_append_only
    BEFORE UPDATE OR DELETE ON subsidy_auditentry
    FOR EACH ROW EXECUTE FUNCTION subsidy_auditentry_append_only()
""",
)

DROP = (
    "DROP TRIGGER IF EXISTS subsidy_auditentry_append_only ON subsidy_auditentry",
    "DROP FUNCTION IF EXISTS subsidy_auditentry_append_only()",
)


def forwards(apps, schema_editor) -> None:
    if schema_editor.connection.vendor == "postgresql":
        for statement in CREATE:
            schema_editor.execute(statement, params=None)


def backwards(apps, schema_editor) -> None:
    if schema_editor.connection.vendor == "postgresql":
        for statement in DROP:
            schema_editor.execute(statement, params=None)


class Migration(migrations.Migration):
    dependencies = [
        ("subsidy", "0007_application_queue_index"),
    ]

    operations = [
        migrations.AddField(
            model_name="auditentry",
            name="state",
            field=models.JSONField(blank=True, null=True),
        ),
        migrations.RunPython(forwards, backwards),
    ]
