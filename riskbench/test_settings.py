"""Settings for the test suite: fast hashing, tasks run inline, uploads in a temp folder."""

import tempfile
from pathlib import Path

from riskbench.settings import *  # noqa: F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
MEDIA_ROOT = tempfile.mkdtemp(prefix="riskbench-test-media-")
STATIC_ROOT = Path(tempfile.mkdtemp(prefix="riskbench-test-static-"))
STORAGES["staticfiles"] = {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}  # noqa: F405
AXES_ENABLED = True
DEMO_LOGIN_ENABLED = False
# Most tests let one editor author and approve a record for brevity; the tests of segregation of
# duties (tests/riskbench/test_segregation.py, the report and the demo) turn it back on, as it is
# by default everywhere else (riskbench.settings).
RISKBENCH_SEGREGATION_OF_DUTIES = False
