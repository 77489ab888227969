"""Storage: the SQLite connection, transactions and schema migrations."""
