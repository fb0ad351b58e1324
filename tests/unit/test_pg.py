"""PostgreSQL connection messages."""

from __future__ import annotations

from c360.pg import describe


def test_connection_descriptions_never_carry_the_password():
    text = describe("host=db port=5433 user=u password=s3cret dbname=c360")
    assert text == "database 'c360' at db:5433 as u"
