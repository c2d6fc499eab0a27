"""Pages of the post-market records, one module per record family: `problems` (IEC 62304
§9), `vulnerabilities` (SOUP), `field` (ISO 14971 §10, and the dashboard panel)."""
