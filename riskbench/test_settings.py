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
