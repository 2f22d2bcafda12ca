"""Renderers: an official document to DOCX and PDF, a workbook to XLSX, a chart to SVG and PNG.

They take the plain models of :mod:`services.reporting.render.model` and return bytes; they know
nothing of rounds, events or the database, so each is tested by reading its output back with a real
reader (python-docx, openpyxl, pdftotext, pdftoppm).
"""
