"""Reporting (报告): a read model built from the other services' events, the round dashboard and
its charts, and the documents the inspections exist for (专报, 季度通报, 问题清单, 年度考核)."""

__version__ = "0.1.0"
