"""Exports of what staff and auditors may see: CSV streamed by the API (stream.py), from the
same filtered rows (rows.py) as the background exports."""
