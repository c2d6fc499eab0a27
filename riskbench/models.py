"""Abstract bases shared by both apps: versioned regulated records and trace links.

Concrete models live in `hazards` and `traceability`; this module knows neither.
"""

from django.conf import settings
from django.db import models
from simple_history.models import HistoricalRecords


class Status(models.TextChoices):
    """Review workflow of a regulated record (ISO 14971 4.5; 21 CFR 11)."""

    DRAFT = "draft", "Draft"
    IN_REVIEW = "in_review", "In review"
    APPROVED = "approved", "Approved"


class RegulatedModel(models.Model):
    """A record of the risk management file.

    `version` is incremented by every service save: it drives optimistic locking (a form carries
    the version it was loaded at) and suspect links (a link remembers the versions it saw).
    """

    version = models.PositiveIntegerField(default=1, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        abstract = True


class WorkflowModel(RegulatedModel):
    """A regulated record that is reviewed and approved (draft → in review → approved)."""

    status = models.CharField(max_length=16, choices=Status.choices, default=Status.DRAFT)

    class Meta:
        abstract = True


class TraceLink(models.Model):
    """Common fields of every explicit trace link.

    Concrete links name their two ends in `SOURCE_FIELD` and `TARGET_FIELD`. A link is *suspect*
    when either end's current `version` is newer than the version recorded here when the link was
    made or last reviewed (derived state, so the app that owns the end needs no signal).
    """

    SOURCE_FIELD = "source"
    TARGET_FIELD = "target"
    KIND = "link"

    source_version = models.PositiveIntegerField(default=1)
    target_version = models.PositiveIntegerField(default=1)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", null=True
    )
    created_at = models.DateTimeField(auto_now_add=True)
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", null=True, blank=True
    )
    reviewed_at = models.DateTimeField(null=True, blank=True)
    review_reason = models.TextField(blank=True)

    class Meta:
        abstract = True

    @property
    def source(self):
        return getattr(self, self.SOURCE_FIELD)

    @property
    def target(self):
        return getattr(self, self.TARGET_FIELD)

    @property
    def is_suspect(self) -> bool:
        return is_suspect(
            self.source_version, self.source.version, self.target_version, self.target.version
        )


def is_suspect(
    recorded_source: int, current_source: int, recorded_target: int, current_target: int
) -> bool:
    """A link is suspect when an end changed after the link was made or last reviewed."""
    return current_source > recorded_source or current_target > recorded_target


# =============================================================================================
# Electronic signatures, tamper-evident audit chain and access log (21 CFR Part 11).
# Services live in riskbench.signatures, riskbench.audit and riskbench.accesslog.
# =============================================================================================


class ImmutableRecordError(Exception):
    """An append-only record (signature, audit chain entry, access log entry) cannot change."""


class AppendOnlyQuerySet(models.QuerySet):
    """Refuses the bulk paths that would change or remove rows without going through `save()`."""

    def update(self, **kwargs):
        raise ImmutableRecordError(f"{self.model._meta.label} rows are append-only.")

    def delete(self):
        raise ImmutableRecordError(f"{self.model._meta.label} rows are append-only.")

    def bulk_update(self, objs, fields, batch_size=None):
        raise ImmutableRecordError(f"{self.model._meta.label} rows are append-only.")

    update.queryset_only = True
    delete.queryset_only = True
    bulk_update.queryset_only = True


class AppendOnlyModel(models.Model):
    """A row that is written once and never changed or deleted by the application.

    `save()` inserts (never updates) and `delete()` refuses; the manager's queryset refuses
    `update()` / `delete()` / `bulk_update()`. The database adds a trigger that aborts any UPDATE
    (migration 0002), and rows that matter are hash-chained, so a deletion behind the
    application's back is detected by `manage.py verify_audit` (21 CFR 11.10(e), 11.70).
    """

    objects = AppendOnlyQuerySet.as_manager()

    class Meta:
        abstract = True

    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise ImmutableRecordError(f"{self._meta.label} rows are append-only.")
        kwargs["force_insert"] = True
        kwargs.pop("force_update", None)
        kwargs.pop("update_fields", None)
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise ImmutableRecordError(f"{self._meta.label} rows are append-only.")


class SignatureMeaning(models.TextChoices):
    """The meaning of a signature, shown with it (21 CFR 11.50(a)(3))."""

    AUTHORED = "authored", "Authored"
    REVIEWED = "reviewed", "Reviewed"
    APPROVED = "approved", "Approved"


class Signature(AppendOnlyModel):
    """An electronic signature bound to one record's content (21 CFR 11.50, 11.70, 11.200).

    `content_sha256` is the SHA-256 of the record's canonical content when it was signed (see
    `riskbench.signatures.record_content`): comparing it with the current content tells whether
    the record still says what was signed. `record_version` is the record's version at signing;
    when the record is edited later, the signature stays on that version ("superseded").
    """

    content_type = models.ForeignKey(
        "contenttypes.ContentType", on_delete=models.PROTECT, related_name="+"
    )
    object_id = models.PositiveBigIntegerField()
    record_label = models.CharField(max_length=255, help_text="The record as shown at signing.")
    record_version = models.PositiveIntegerField()
    product = models.ForeignKey(
        "hazards.Product",
        on_delete=models.PROTECT,
        related_name="signatures",
        null=True,
        blank=True,
        help_text="Empty for records shared by products (risk policies).",
    )
    signer = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="signatures"
    )
    printed_name = models.CharField(max_length=300)
    signed_at = models.DateTimeField("signed at (UTC)")
    meaning = models.CharField(max_length=16, choices=SignatureMeaning.choices)
    content_sha256 = models.CharField("content SHA-256", max_length=64)
    reason = models.TextField("comment", blank=True)

    class Meta(AppendOnlyModel.Meta):
        ordering = ["signed_at", "id"]
        indexes = [models.Index(fields=["content_type", "object_id"])]
        constraints = [
            # A double-submitted form signs once (issue 9 §1): the service returns the
            # existing signature; this is the last line of defence.
            models.UniqueConstraint(
                fields=["content_type", "object_id", "signer", "meaning", "content_sha256"],
                name="one_signature_per_signer_meaning_content",
            )
        ]

    def __str__(self):
        return self.manifestation

    @property
    def manifestation(self) -> str:
        """Printed name, date and time (UTC) and meaning: what 11.50 asks to show."""
        from datetime import UTC

        when = self.signed_at.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
        return f"{self.printed_name} — {self.get_meaning_display()} — {when}"


class SigningGuard(models.Model):
    """Consecutive wrong passwords at signing, per user, kept in the database so every process
    sees the same count; after `RISKBENCH_SIGNING_FAILURE_LIMIT` failures in a row signing is
    locked until `locked_until` (21 CFR 11.300(d): detect and deter unauthorised use)."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="signing_guard"
    )
    consecutive_failures = models.PositiveIntegerField(default=0)
    last_failure_at = models.DateTimeField(null=True, blank=True)
    locked_until = models.DateTimeField(null=True, blank=True)

    def __str__(self):
        return f"Signing guard of {self.user}"


class AuditSchema(AppendOnlyModel):
    """The field names hashed for the rows of one model at one point of its schema.

    Chain entries point here instead of hashing "whatever columns exist now", so adding a field
    to a regulated model later does not make every older row look tampered with.
    """

    model_label = models.CharField(max_length=100)
    field_names = models.JSONField()
    digest = models.CharField(max_length=64, unique=True)

    def __str__(self):
        return f"{self.model_label} ({len(self.field_names)} fields)"


class AuditSource(models.TextChoices):
    HISTORY = "history", "History row"
    SIGNATURE = "signature", "Electronic signature"
    BASELINE = "baseline", "Baseline"


ACCESS_LOG_CHAIN = "access-log"


class AuditChainHead(models.Model):
    """Last sequence number and hash of one chain; locked (`select_for_update`) by every
    append so that two writers cannot both extend the same predecessor (no forked chain).

    One row per audit chain (`product:<id>`, `global`) and one for the access log
    (`ACCESS_LOG_CHAIN`, whose entries are `AccessLogEntry` rows)."""

    chain = models.CharField(max_length=40, unique=True)
    seq = models.PositiveBigIntegerField(default=0)
    row_hash = models.CharField(max_length=64, blank=True)

    def __str__(self):
        return f"{self.chain} @ {self.seq}"


class AuditChainEntry(AppendOnlyModel):
    """One link of the tamper-evident audit chain (21 CFR 11.10(e)).

    Every history row of every regulated model, every signature and every baseline gets one
    entry in the chain of its product (`product:<id>`); rows without a product (risk policies,
    which several products share) go to the `global` chain. `row_hash` = SHA-256 over the
    previous hash, the chain position and the canonical content of the referenced row (fields
    listed in `schema`) plus the displayed `changes`; `manage.py verify_audit` recomputes it.

    The other columns (product, who, when, action, reason, changes) are copies that let the
    audit trail page filter and page through every model in one indexed table; the verifier
    checks them against the referenced row.
    """

    chain = models.CharField(max_length=40)
    seq = models.PositiveBigIntegerField()
    product = models.ForeignKey(
        "hazards.Product",
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        related_name="+",
        null=True,
        blank=True,
    )
    source = models.CharField(max_length=10, choices=AuditSource.choices)
    model_label = models.CharField(
        max_length=100, help_text="The regulated model, e.g. hazards.hazard."
    )
    row_id = models.PositiveBigIntegerField(help_text="history_id, signature id or baseline id.")
    object_id = models.CharField(max_length=64)
    object_repr = models.CharField(max_length=255)
    action = models.CharField(max_length=1)
    at = models.DateTimeField("when (UTC)")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        related_name="+",
        null=True,
        blank=True,
    )
    user_name = models.CharField(
        "user name as recorded",
        max_length=150,
        blank=True,
        help_text="The acting user's name when the entry was written; a later rename of the "
        "user changes neither this nor the hash (the user is identified by `user`, an id).",
    )
    reason = models.CharField(max_length=255, blank=True)
    changes = models.JSONField(default=list, blank=True)
    schema = models.ForeignKey(AuditSchema, on_delete=models.PROTECT, related_name="+")
    prev_hash = models.CharField(max_length=64)
    row_hash = models.CharField(max_length=64)
    chained_at = models.DateTimeField()
    backfilled = models.BooleanField(
        default=False, help_text="Chained after the fact (bulk write or rows older than the chain)."
    )

    class Meta(AppendOnlyModel.Meta):
        verbose_name_plural = "audit chain entries"
        ordering = ["-at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["chain", "seq"], name="unique_audit_chain_seq"),
            models.UniqueConstraint(
                fields=["source", "model_label", "row_id"], name="unique_audit_chain_row"
            ),
        ]
        indexes = [
            models.Index(fields=["product", "at"]),
            models.Index(fields=["at"]),
            models.Index(fields=["user", "at"]),
            models.Index(fields=["model_label", "at"]),
        ]

    def __str__(self):
        return f"{self.chain} #{self.seq} {self.model_label} {self.object_repr}"


class AccessAction(models.TextChoices):
    LOGIN = "login", "Login"
    LOGIN_FAILED = "login_failed", "Failed login"
    LOGIN_LOCKED = "login_locked", "Login locked out"
    LOGOUT = "logout", "Logout"
    SIGNATURE = "signature", "Signature"
    SIGNATURE_FAILED = "signature_failed", "Failed signature (wrong user ID or password)"
    SIGNING_LOCKED = "signing_locked", "Signing locked"
    EXPORT = "export", "Export"


class AccessLogEntry(AppendOnlyModel):
    """Who logged in, failed to, logged out, signed or exported what, from where
    (21 CFR 11.10(d), 11.300(d)). Written through `riskbench.accesslog.record_access`.

    The entries form one hash chain (`seq`, `prev_hash`, `row_hash`; head in `AuditChainHead`
    `ACCESS_LOG_CHAIN`) so an edited or removed entry is found by `manage.py verify_audit`.
    `user` is the stable id; `username` the name as typed or known then."""

    at = models.DateTimeField("when (UTC)", db_index=True)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        related_name="+",
        null=True,
        blank=True,
    )
    username = models.CharField(max_length=150, blank=True, help_text="As typed or as known.")
    action = models.CharField(max_length=20, choices=AccessAction.choices)
    detail = models.TextField(blank=True)
    product = models.ForeignKey(
        "hazards.Product",
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        related_name="+",
        null=True,
        blank=True,
    )
    ip_address = models.GenericIPAddressField(null=True, blank=True)
    user_agent = models.CharField(max_length=300, blank=True)
    seq = models.PositiveBigIntegerField(null=True, blank=True, unique=True)
    prev_hash = models.CharField(max_length=64, blank=True)
    row_hash = models.CharField(max_length=64, blank=True)

    class Meta(AppendOnlyModel.Meta):
        verbose_name_plural = "access log entries"
        ordering = ["-at", "-id"]
        indexes = [models.Index(fields=["user", "at"]), models.Index(fields=["product", "at"])]

    def __str__(self):
        return f"{self.at:%Y-%m-%d %H:%M:%S} {self.username} {self.get_action_display()}"


# =============================================================================================
# Competence of the people who work on and sign the risk files (ISO 14971 4.3).
# =============================================================================================


class UserProfile(models.Model):
    """A person's role and qualification, on record (ISO 14971 4.3: the people performing risk
    management tasks are competent, and the records show it).

    Administrators keep it (`riskbench.services.profile_update`, the Django admin). It has a
    history, so that each signature is shown with the role and qualification its signer held
    at signing (`riskbench.signatures.competence_at`), not with what they hold today.
    """

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="profile"
    )
    role_title = models.CharField(
        "role", max_length=200, blank=True, help_text="E.g. Head of quality, Clinical expert."
    )
    qualification = models.TextField(
        blank=True,
        help_text="Education, training and experience relevant to the risk management tasks "
        "assigned (ISO 14971 4.3).",
    )
    updated_at = models.DateTimeField(auto_now=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["user__username"]

    def __str__(self):
        return f"Competence of {self.user}"
