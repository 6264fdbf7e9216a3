"""On PostgreSQL, make the event table range-partitioned by event time (issue 5: "partitioned by time
on PostgreSQL"): yearly partitions 2000–2049 and a default partition for anything else. The primary
key becomes (id, event_time), as PostgreSQL requires the partition key in unique indexes; event IDs
stay unique through ``EventIdentity``. Other databases keep the plain table."""

from django.db import migrations

FIRST_YEAR, LAST_YEAR = 2000, 2049


def partition(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    model = apps.get_model("trace", "EpcisEvent")
    table = model._meta.db_table
    with schema_editor.connection.cursor() as cursor:
        cursor.execute(f"ALTER TABLE {table} RENAME TO {table}_plain")
        cursor.execute(f"CREATE TABLE {table} (LIKE {table}_plain INCLUDING DEFAULTS INCLUDING IDENTITY "
                       f"INCLUDING CONSTRAINTS) PARTITION BY RANGE (event_time)")
        cursor.execute(f"DROP TABLE {table}_plain")
        cursor.execute(f"ALTER TABLE {table} ADD PRIMARY KEY (id, event_time)")
        for year in range(FIRST_YEAR, LAST_YEAR + 1):
            cursor.execute(f"CREATE TABLE {table}_y{year} PARTITION OF {table} "
                           f"FOR VALUES FROM ('{year}-01-01 00:00:00+00') TO ('{year + 1}-01-01 00:00:00+00')")
        cursor.execute(f"CREATE TABLE {table}_default PARTITION OF {table} DEFAULT")
    for index in model._meta.indexes:
        schema_editor.add_index(model, index)


class Migration(migrations.Migration):
    dependencies = [("trace", "0001_initial")]

    operations = [migrations.RunPython(partition, migrations.RunPython.noop, elidable=False)]
