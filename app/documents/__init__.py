"""Documents the coordinator sends: one small model of a document, rendered to DOCX (what
Romanian offices and the ministry work in) and to PDF, both A4 with Romanian diacritics right.

- `model`      the document: title, headings, paragraphs, tables, key-value lines
- `to_docx`    the DOCX renderer (python-docx)
- `to_pdf`     the PDF renderer (fpdf2, with the bundled DejaVu Sans in `fonts/`)
- `evaluation` the annual evaluation of the integrity plan (measure 1.7): data, DOCX, PDF, CSV

The documents are addressed to Romanian authorities, so their text is Romanian whatever the
language of the page that offers them; the pages themselves are translated as usual.
"""
