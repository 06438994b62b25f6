"""The headless core: ingest, index, search, translate, tag, export. Never imports textual."""
