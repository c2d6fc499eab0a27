"""Demo risk files for RiskBench, as plain Python data: one module per product.

Each module defines:

* ``PRODUCT`` — the Product fields (slug is the idempotency key);
* ``SOFTWARE_VERSION`` and ``CI_PREFIX`` — the release under test and where its CI evidence lives;
* ``CONTROLS``, ``HAZARDS`` — the risk register; a hazard lists the codes of the controls that
  reduce it (``controls``), the safety hazards a security row can lead to (``leads_to``) and the
  software items that can contribute to it (``software``: item code, IEC 62304 7.1.2 cause type,
  cause); ``status`` is the workflow status the row is brought to;
* ``INTRODUCED`` — (control, hazard) pairs: the control introduces the hazard (ISO 14971 7.5);
* ``SOFTWARE_ITEMS``, ``REQUIREMENTS`` (with the ``controls`` they implement), ``TEST_CASES``
  (with the ``requirements`` they verify, the controls whose implementation and effectiveness
  they verify, and their ``runs``: days before the demo epoch, result, version, notes);
* optionally ``RELEASE_BASELINE`` — the name of the release baseline the demo takes of this
  product once its file passes the release gate (`traceability.demo.release`);
* optionally ``LATER_REQUIREMENT_CHANGES`` — edits made after the trace was built, leaving
  suspect links.

`loader.load_product` writes a module through the services. The deliberate gaps of each product
are listed in its module docstring.
"""

from traceability.demo import infusion_pump, insulin_pump, pacemaker

PRODUCTS = (insulin_pump, infusion_pump, pacemaker)

# Demo data of apps above traceability, registered from their AppConfig.ready(): callables
# `load(*, by, signer) -> {kind: count created}` that `loaddemo` runs after the products, each
# idempotent like the products (an empty dict on a second run).
EXTENSIONS: list = []
