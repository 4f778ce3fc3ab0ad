"""The agreement suite, exactly as gradparity ships it (``gradparity/suite/agreement.py``, which
``gradparity certify`` and ``pytest --gradparity`` run): every registered cell's sample cases ×
every oracle, every tensor. Rerun one cell: ``pytest tests/test_agreement.py -k "lstm-"``."""

from gradparity.suite.agreement import pytest_generate_tests, test_agreement, test_known_discrepancy

__all__ = ["pytest_generate_tests", "test_agreement", "test_known_discrepancy"]
