"""A small real-looking pg_dump of a `retail` table, as `pg_dump --table=retail` writes one: SET
statements, CREATE TABLE, another table's data, the COPY block, trailing ALTER/GRANT (shared by
test_dump.py and tests/test_bad_inputs.py)."""

from __future__ import annotations

# LGS IT's `retail` table as its dumps show it (also the shop's database in tests/shop_db.py).
RETAIL_TABLE = """\
CREATE TABLE public.retail (
    invoice_no text NOT NULL,
    stock_code text NOT NULL,
    description text,
    quantity integer NOT NULL,
    invoice_date timestamp without time zone NOT NULL,
    unit_price numeric(12,2) NOT NULL,
    customer_id integer,
    country text
);
"""

HEAD = """\
--
-- PostgreSQL database dump
--

\\restrict Kq3xVvPrJmT0cSd8Yb2nL5wHaE7fGuZ1iO4pR6tX9yQ

-- Dumped from database version 18.1
-- Dumped by pg_dump version 18.1

SET statement_timeout = 0;
SET lock_timeout = 0;
SET client_encoding = 'UTF8';
SET standard_conforming_strings = on;
SELECT pg_catalog.set_config('search_path', '', false);
SET check_function_bodies = false;
SET client_min_messages = warning;

SET default_tablespace = '';

--
-- Name: notes; Type: TABLE; Schema: public; Owner: lgs
--

CREATE TABLE public.notes (
    id integer NOT NULL,
    body text
);

--
-- Name: retail; Type: TABLE; Schema: public; Owner: lgs
--

""" + RETAIL_TABLE + """
--
-- Data for Name: notes; Type: TABLE DATA; Schema: public; Owner: lgs
--

COPY public.notes (id, body) FROM stdin;
1\tCOPY public.retail (invoice_no) FROM stdin;
2\tnot retail data
\\.


--
-- Data for Name: retail; Type: TABLE DATA; Schema: public; Owner: lgs
--

"""
COPY = "COPY public.retail (invoice_no, stock_code, description, quantity, invoice_date, unit_price, " \
       "customer_id, country) FROM stdin;\n"
ROWS = [
    "536365\t85123A\tWHITE HANGING HEART T-LIGHT HOLDER\t6\t2010-12-01 08:26:00\t2.55\t17850\tUnited Kingdom",
    "536366\t22633\tHAND WARMER\\tUNION JACK\t6\t2010-12-01 08:28:00\t1.85\t\\N\tUnited Kingdom",
    "C536379\tD\tDiscount\\\\10%\\nline two\t-1\t2010-12-01 09:41:00\t27.50\t14527\tUnited Kingdom",
    "536370\t22728\tCAF\\303\\211 \\xe2\\x98\\x95 MUG\t24\t2010-12-01 08:45:00\t3.75\t12583\tFrance",
    "536371\t22729\t\\N\t1\t2010-12-01 08:46:00\t0.00\t\\N\t\\N",
]
TAIL = """\\.


--
-- Name: retail retail_pkey; Type: CONSTRAINT; Schema: public; Owner: lgs
--

ALTER TABLE ONLY public.retail
    ADD CONSTRAINT retail_pkey PRIMARY KEY (invoice_no, stock_code);

GRANT SELECT ON TABLE public.retail TO analyst;

--
-- PostgreSQL database dump complete
--

\\unrestrict Kq3xVvPrJmT0cSd8Yb2nL5wHaE7fGuZ1iO4pR6tX9yQ

"""
FIRST_ROW_LINE = HEAD.count("\n") + 2  # the COPY line follows HEAD


def dump_text(rows: list[str] = ROWS, copy: str = COPY, head: str = HEAD, tail: str = TAIL) -> str:
    return head + copy + "".join(r + "\n" for r in rows) + tail
