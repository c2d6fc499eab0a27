"""`manage.py loaddemo`: load the demo risk files (idempotent) and, in development only, ensure
the demo logins.

The demo products are written through the services with an acting user and reasons, so their
history is real (21 CFR 11.10(e)). Running the command again changes nothing.

Demo logins exist only when `settings.DEMO_LOGIN_ENABLED` is true (development; production
settings never enable it):

* ``demo`` / ``Bolus-occlusion-42`` — group "Quality engineer", member of every demo product;
* ``auditor`` / ``Audit-trail-1971`` — group "Auditor", member of every demo product.

The documented password is (re)set on each run only for accounts that loaddemo created itself
(marked by an e-mail address at ``demo.riskbench.invalid``); an account of the same name made by
someone else keeps its password. Both lines are printed on every run, because `make run` shows
them to the developer. The demo login also signs the demo's approvals and a "Design freeze"
baseline per product (21 CFR 11.50), with the password set here — first each product's own risk
policy, so its risks are evaluated. Without demo logins, the demo data are authored by the system
user ``riskbench-demo``, which has no usable password and so signs nothing: its approvals are
status changes only, and no product's risk policy is approved (risks estimated, not evaluated).

Products are opened and their members given access by ``riskbench-demo`` in both cases: the
administrator of the demo (a superuser that cannot log in: inactive, no usable password).

It stands on the common command base (riskbench.commands) but takes no ``--user``: the author of
the demo is the demo account it creates itself (or the system user above), never a real person.
"""

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError

from riskbench import roles
from riskbench.commands import CannotRun, RiskBenchCommand
from traceability.demo import EXTENSIONS, PRODUCTS
from traceability.demo.loader import DemoSigner, load_product
from traceability.demo.release import release

DEMO_EMAIL_DOMAIN = "demo.riskbench.invalid"
SYSTEM_USERNAME = "riskbench-demo"
DEMO_LOGINS = (
    # username, password, group, first name, last name, label printed
    ("demo", "Bolus-occlusion-42", roles.QUALITY_ENGINEER, "Dana", "Demo", "Demo login"),
    ("auditor", "Audit-trail-1971", roles.AUDITOR, "Alex", "Auditor", "Auditor login"),
)


def ensure_login(username, password, group_name, first_name, last_name):
    """The demo account, in its group. Returns (user, password shown or None when the account
    was not created by loaddemo and so keeps a password we do not know)."""
    User = get_user_model()
    email = f"{username}@{DEMO_EMAIL_DOMAIN}"
    user = User.objects.filter(username=username).first()
    if user is None:
        user = User(username=username, email=email, first_name=first_name, last_name=last_name)
        try:
            validate_password(password, user)
        except ValidationError as exc:
            raise CannotRun(f"Demo password for {username!r} is refused: {exc}") from exc
        user.set_password(password)
        user.save()
    elif user.email == email:
        if not user.check_password(password):
            user.set_password(password)
            user.save(update_fields=["password"])
    else:
        password = None
    group = Group.objects.get(name=group_name)
    if not user.groups.filter(pk=group.pk).exists():
        user.groups.add(group)
    return user, password


def ensure_system_user():
    """The demo's administrator and, without demo logins, its author: inactive with no usable
    password, so nobody can log in as it; a superuser, since only administrators create
    products and give access to them."""
    User = get_user_model()
    user, created = User.objects.get_or_create(
        username=SYSTEM_USERNAME,
        defaults={
            "first_name": "RiskBench",
            "last_name": "demo loader",
            "is_active": False,
            "is_superuser": True,
        },
    )
    if created:
        user.set_unusable_password()
        user.save(update_fields=["password"])
    elif not user.is_superuser and not user.has_usable_password() and not user.is_active:
        user.is_superuser = True
        user.save(update_fields=["is_superuser"])
    return user


class Command(RiskBenchCommand):
    help = "Load the demo products (idempotent) and ensure the demo login (development only)."

    def handle(self, *args, **options):
        logins = []
        signer = None
        admin = ensure_system_user()
        if settings.DEMO_LOGIN_ENABLED:
            for username, password, group, first, last, label in DEMO_LOGINS:
                user, shown = ensure_login(username, password, group, first, last)
                logins.append((label, user, shown))
            _, author, password = logins[0]
            members = [user for _, user, _ in logins]
            if password:  # an account loaddemo did not create keeps a password we do not know
                signer = DemoSigner(author, password)
        else:
            author = admin
            members = []

        for module in PRODUCTS:
            result = load_product(module, by=author, admin=admin, members=members, signer=signer)
            if result.total:
                details = ", ".join(f"{n} {kind}" for kind, n in result.created.items())
                self.stdout.write(f"{result.product.slug}: created {details}")
            else:
                self.stdout.write(f"{result.product.slug}: already loaded, nothing changed")

        for extend in EXTENSIONS:
            created = extend(by=author, signer=signer)
            name = extend.__module__
            if created:
                details = ", ".join(f"{n} {kind}" for kind, n in created.items())
                self.stdout.write(f"{name}: created {details}")
            else:
                self.stdout.write(f"{name}: already loaded, nothing changed")

        for module in PRODUCTS:
            created = release(module, by=author, signer=signer)
            if created:
                details = ", ".join(f"{n} {kind}" for kind, n in created.items())
                self.stdout.write(f"{module.PRODUCT['slug']} release: created {details}")

        for label, user, shown in logins:
            if shown is None:
                shown = "(unchanged: this account was not created by loaddemo)"
            self.stdout.write(f"{label}: user {user.username} / password {shown}")
