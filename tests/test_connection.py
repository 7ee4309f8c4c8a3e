"""linkage.connection.registered: an in-memory table lives exactly as long as its block."""

from __future__ import annotations

import duckdb
import pyarrow as pa
import pytest

from linkage.connection import id_table, registered


def _visible(con: duckdb.DuckDBPyConnection, name: str) -> bool:
    return bool(con.execute(
        "SELECT count(*) FROM duckdb_views() WHERE view_name = ?", [name]).fetchall()[0][0])


def test_a_registered_table_is_gone_after_its_block_also_on_error() -> None:
    con = duckdb.connect()
    with registered(con, "_ids", id_table(["b", "a", "b"])) as name:
        assert name == "_ids" and _visible(con, "_ids")
        assert con.execute("SELECT list(archive_id ORDER BY archive_id) FROM _ids").fetchall()[0][0] == ["a", "b"]
    assert not _visible(con, "_ids")
    with pytest.raises(duckdb.Error):
        with registered(con, "_ids", pa.table({"x": [1]})):
            con.execute("SELECT no_such_column FROM _ids")
    assert not _visible(con, "_ids")
