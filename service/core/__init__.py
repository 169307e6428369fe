"""What every process shares: settings, the runtime (database, queue, storage), the database."""
