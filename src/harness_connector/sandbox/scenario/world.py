"""The organisation the scenario simulates, as data: projects, services, people, delegates, connectors.

Everything here is seed-independent, so names are stable between scenarios; the seed only decides what happens
to them. `pipelines.py` builds the pipelines from these services.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = [
    "COMMIT_PHRASES",
    "DELEGATES",
    "ORGS",
    "PINNED_WINDOWS",
    "PROJECTS",
    "SERVICES",
    "USERS",
    "DelegateSpec",
    "PinnedWindow",
    "ProjectSpec",
    "ServiceSpec",
    "User",
]


@dataclass(frozen=True, slots=True)
class ProjectSpec:
    org: str
    identifier: str
    name: str
    color: str
    modules: tuple[str, ...]
    description: str


@dataclass(frozen=True, slots=True)
class User:
    identifier: str
    name: str
    email: str


@dataclass(frozen=True, slots=True)
class ServiceSpec:
    """A service with its repository, toolchain, test suite size and how busy its team is."""

    id: str  # Harness identifier
    name: str  # repository, image and Kubernetes workload name
    org: str
    project: str
    toolchain: str
    test_template: str  # "" when the repository has no unit tests
    package: str  # Java package, Go module, Python package or source root
    areas: tuple[str, ...]  # domain words for test and source names
    tests: int
    prs_per_day: float
    pushes_per_day: float
    authors: tuple[str, ...]
    app_version: str
    flaky_rates: tuple[float, ...] = ()
    slow_tests: int = 1


@dataclass(frozen=True, slots=True)
class DelegateSpec:
    name: str
    type: str  # KUBERNETES | DOCKER
    tags: tuple[str, ...]
    org: str = ""
    project: str = ""
    replicas: int = 1
    disconnected_hours: float = 0.0  # how long before the anchor its last heartbeat was; 0 means connected


@dataclass(frozen=True, slots=True)
class PinnedWindow:
    """A failure window at a fixed place relative to the anchor (an ongoing problem the account has right now)."""

    family: str
    start_hours_before_anchor: float
    end_hours_before_anchor: float  # 0: still going on at the anchor
    pipelines: tuple[str, ...] = ()
    delegate: str = ""
    params: tuple[tuple[str, str], ...] = ()


ORGS: tuple[tuple[str, str, str], ...] = (
    ("default", "Default", "Product engineering"),
    ("platform", "Platform", "Shared infrastructure and build tooling"),
)

PROJECTS: tuple[ProjectSpec, ...] = (
    ProjectSpec("default", "payments", "Payments", "#0063f7", ("CI", "CD"), "Payment processing, ledger and fraud"),
    ProjectSpec("default", "web", "Web", "#e63535", ("CI", "CD", "CF"), "Storefront and mobile backend"),
    ProjectSpec("platform", "infra", "Infra", "#06c270", ("CI", "CD"), "Base images, cluster operations, tools"),
)

USERS: tuple[User, ...] = tuple(
    User(ident, name, f"{ident.replace('_', '.')}@acme.io")
    for ident, name in (
        ("alice_nguyen", "Alice Nguyen"),
        ("bob_martins", "Bob Martins"),
        ("chen_wei", "Chen Wei"),
        ("dana_kowalski", "Dana Kowalski"),
        ("emeka_obi", "Emeka Obi"),
        ("farah_haddad", "Farah Haddad"),
        ("gustavo_lima", "Gustavo Lima"),
        ("hana_sato", "Hana Sato"),
        ("ivan_petrov", "Ivan Petrov"),
        ("julia_berg", "Julia Berg"),
        ("kofi_mensah", "Kofi Mensah"),
        ("lena_fischer", "Lena Fischer"),
    )
)

SERVICES: tuple[ServiceSpec, ...] = (
    ServiceSpec(
        "payments_api",
        "payments-api",
        "default",
        "payments",
        "maven",
        "test:maven",
        "com.acme.payments",
        (
            "ledger",
            "settlement",
            "refund",
            "payout",
            "authorization",
            "currency",
            "webhook",
            "reconciliation",
            "idempotency",
            "fee",
        ),
        tests=100,
        prs_per_day=7.7,
        pushes_per_day=0.8,
        authors=("alice_nguyen", "bob_martins", "chen_wei"),
        app_version="2.14.0",
        flaky_rates=(0.02, 0.05),
        slow_tests=2,
    ),
    ServiceSpec(
        "ledger",
        "ledger-service",
        "default",
        "payments",
        "go",
        "test:go",
        "github.com/acme/ledger-service",
        ("journal", "posting", "balance", "cursor", "batch", "snapshot", "account", "audit"),
        tests=70,
        prs_per_day=5.6,
        pushes_per_day=0.6,
        authors=("chen_wei", "dana_kowalski"),
        app_version="1.31.0",
        flaky_rates=(0.01, 0.10),
    ),
    ServiceSpec(
        "fraud_scorer",
        "fraud-scorer",
        "default",
        "payments",
        "pip",
        "test:pip",
        "fraud_scorer",
        ("velocity", "device", "merchant", "chargeback", "features", "model", "rules", "scoring"),
        tests=80,
        prs_per_day=4.7,
        pushes_per_day=0.5,
        authors=("emeka_obi", "farah_haddad"),
        app_version="0.19.0",
        flaky_rates=(0.05,),
    ),
    ServiceSpec(
        "payments_webhooks",
        "payments-webhooks",
        "default",
        "payments",
        "npm",
        "test:npm",
        "src",
        ("delivery", "signature", "retry", "subscription", "payload", "queue"),
        tests=50,
        prs_per_day=3.9,
        pushes_per_day=0.5,
        authors=("bob_martins", "farah_haddad"),
        app_version="3.4.0",
        flaky_rates=(0.20,),
    ),
    ServiceSpec(
        "storefront",
        "storefront",
        "default",
        "web",
        "npm",
        "test:npm",
        "src",
        ("cart", "checkout", "catalog", "search", "account", "promo", "shipping", "i18n"),
        tests=100,
        prs_per_day=9.1,
        pushes_per_day=0.8,
        authors=("gustavo_lima", "hana_sato", "julia_berg"),
        app_version="5.2.0",
        flaky_rates=(0.01, 0.05, 0.10),
        slow_tests=2,
    ),
    ServiceSpec(
        "mobile_bff",
        "mobile-bff",
        "default",
        "web",
        "gradle",
        "test:gradle",
        "com.acme.bff",
        ("session", "cart", "locale", "feed", "push", "profile"),
        tests=70,
        prs_per_day=4.3,
        pushes_per_day=0.5,
        authors=("ivan_petrov", "hana_sato"),
        app_version="1.8.0",
        flaky_rates=(0.02,),
    ),
    ServiceSpec(
        "search_api",
        "search-api",
        "default",
        "web",
        "pip",
        "test:pip",
        "search_api",
        ("query", "ranking", "synonyms", "facets", "indexer", "spelling"),
        tests=60,
        prs_per_day=3.6,
        pushes_per_day=0.5,
        authors=("julia_berg", "emeka_obi"),
        app_version="0.42.0",
        flaky_rates=(0.10,),
    ),
    ServiceSpec(
        "infra_tools",
        "infra-tools",
        "platform",
        "infra",
        "go",
        "test:go",
        "github.com/acme/infra-tools",
        ("terraform", "drift", "inventory", "rotate", "dns", "cost"),
        tests=45,
        prs_per_day=3.1,
        pushes_per_day=0.8,
        authors=("kofi_mensah", "lena_fischer"),
        app_version="0.9.0",
        flaky_rates=(0.01,),
    ),
    ServiceSpec(
        "storefront_e2e",
        "storefront-e2e",
        "default",
        "web",
        "npm",
        "test:playwright",
        "e2e",
        ("checkout", "cart", "search", "account", "promo"),
        tests=40,
        prs_per_day=0.0,
        pushes_per_day=0.0,
        authors=("julia_berg",),
        app_version="5.2.0",
        flaky_rates=(0.20, 0.40),
        slow_tests=3,
    ),
    ServiceSpec(
        "base_images",
        "base-images",
        "platform",
        "infra",
        "docker",
        "",
        "images",
        ("node", "python", "jvm"),
        tests=0,
        prs_per_day=1.1,
        pushes_per_day=0.6,
        authors=("kofi_mensah", "lena_fischer"),
        app_version="2024.9",
    ),
)

DELEGATES: tuple[DelegateSpec, ...] = (
    DelegateSpec("ci-build-delegate", "KUBERNETES", ("ci", "build"), replicas=3),
    DelegateSpec("k8s-staging-delegate", "KUBERNETES", ("k8s", "staging"), replicas=1),
    DelegateSpec("k8s-prod-delegate", "KUBERNETES", ("k8s", "prod"), replicas=2),
    DelegateSpec("platform-ops-delegate", "KUBERNETES", ("ops", "shell"), org="platform", replicas=1),
    DelegateSpec("legacy-shell-delegate", "DOCKER", ("shell", "legacy"), org="platform", disconnected_hours=40.0),
    DelegateSpec("docker-builder-delegate", "DOCKER", ("docker",), disconnected_hours=9 * 24.0),
)

# The account's current problems: the K8s connector of the infra cluster has an expired token (so its test
# status is failing) and the legacy shell delegate stopped heartbeating, so the nightly audit cannot be scheduled.
PINNED_WINDOWS: tuple[PinnedWindow, ...] = (
    PinnedWindow(
        "k8s_credentials_expired",
        7.0,
        0.0,
        pipelines=("cluster_maintenance",),
        params=(("connector", "infra_eks"), ("cluster_host", "eks-infra.acme.internal")),
    ),
    PinnedWindow("delegate_unavailable", 40.0, 0.0, delegate="legacy-shell-delegate", params=(("selector", "legacy"),)),
)

COMMIT_PHRASES: tuple[str, ...] = (
    "feat({area}): support partial {area} updates",
    "feat({area}): add metrics for {area} latency",
    "fix({area}): handle empty {area} responses",
    "fix({area}): avoid double counting in {area}",
    "refactor({area}): extract {area} client",
    "perf({area}): batch {area} lookups",
    "test({area}): cover {area} edge cases",
    "chore(deps): bump dependencies",
    "chore: update CODEOWNERS",
    "docs({area}): document {area} retries",
    "fix({area}): respect timeouts in {area} calls",
    "feat({area}): expose {area} status endpoint",
)
