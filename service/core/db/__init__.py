"""The database: schema, engine, migrations. SQLite (WAL) by default, PostgreSQL by URL."""
