from tests.reporting.reports.conftest import fake

__all__ = ["fake"]
