"""RiskBench REST API (Django REST Framework + drf-spectacular); see api/README.md."""
