"""The convolution course's grading content; its messages' catalogs are in ``locale/`` (domain
``grader``, see course_runtime/i18n.py)."""
from pathlib import Path

LOCALE = Path(__file__).with_name("locale")
