"""Word pools the log generators draw from: transitive dependencies, source files, Debian packages, nodes.

Long builds print thousands of lines; drawing their names from realistic pools keeps them looking like the real
thing (and gives log-template miners the same variety they meet in production).
"""

from __future__ import annotations

__all__ = ["POOLS"]

POOLS: dict[str, tuple[str, ...]] = {
    "npm_dep": (
        "@babel/parser", "@babel/traverse", "@babel/types", "@jest/core", "@jest/transform", "@types/react",
        "@typescript-eslint/parser", "acorn", "ajv", "ansi-styles", "anymatch", "browserslist", "caniuse-lite",
        "chalk", "chokidar", "commander", "cross-spawn", "debug", "electron-to-chromium", "enhanced-resolve",
        "esbuild", "escalade", "estraverse", "fast-glob", "glob", "graceful-fs", "iconv-lite", "js-tokens",
        "json5", "loose-envify", "micromatch", "minimatch", "ms", "node-releases", "picomatch", "postcss",
        "readable-stream", "resolve", "safe-buffer", "scheduler", "source-map", "supports-color", "terser", "tslib",
        "undici-types", "which", "yallist", "yargs",
    ),
    "pypi_dep": (
        "certifi", "charset-normalizer", "idna", "urllib3", "six", "python-dateutil", "pytz", "tzdata", "packaging",
        "typing-extensions", "annotated-types", "pydantic-core", "anyio", "sniffio", "h11", "click", "jinja2",
        "markupsafe", "joblib", "threadpoolctl", "pyyaml", "greenlet", "attrs", "iniconfig", "pluggy", "coverage",
        "jmespath", "s3transfer", "wrapt", "protobuf",
    ),
    "maven_path": (
        "org/springframework/spring-core/6.1.6/spring-core-6.1.6",
        "org/springframework/spring-web/6.1.6/spring-web-6.1.6",
        "org/springframework/spring-context/6.1.6/spring-context-6.1.6",
        "org/springframework/boot/spring-boot-autoconfigure/3.2.5/spring-boot-autoconfigure-3.2.5",
        "com/fasterxml/jackson/core/jackson-core/2.17.0/jackson-core-2.17.0",
        "com/fasterxml/jackson/core/jackson-annotations/2.17.0/jackson-annotations-2.17.0",
        "org/hibernate/orm/hibernate-core/6.4.4.Final/hibernate-core-6.4.4.Final",
        "org/apache/tomcat/embed/tomcat-embed-core/10.1.20/tomcat-embed-core-10.1.20",
        "io/netty/netty-buffer/4.1.109.Final/netty-buffer-4.1.109.Final",
        "io/netty/netty-codec-http/4.1.109.Final/netty-codec-http-4.1.109.Final",
        "org/yaml/snakeyaml/2.2/snakeyaml-2.2",
        "ch/qos/logback/logback-core/1.4.14/logback-core-1.4.14",
        "org/apache/commons/commons-lang3/3.14.0/commons-lang3-3.14.0",
        "net/bytebuddy/byte-buddy/1.14.13/byte-buddy-1.14.13",
        "org/apiguardian/apiguardian-api/1.1.2/apiguardian-api-1.1.2",
        "org/opentest4j/opentest4j/1.3.0/opentest4j-1.3.0",
        "org/apache/maven/plugins/maven-surefire-plugin/3.2.5/maven-surefire-plugin-3.2.5",
        "org/apache/maven/plugins/maven-compiler-plugin/3.11.0/maven-compiler-plugin-3.11.0",
        "org/codehaus/plexus/plexus-utils/3.5.1/plexus-utils-3.5.1",
        "com/google/errorprone/error_prone_annotations/2.26.1/error_prone_annotations-2.26.1",
        "org/checkerframework/checker-qual/3.42.0/checker-qual-3.42.0",
        "org/jetbrains/kotlin/kotlin-stdlib/1.9.23/kotlin-stdlib-1.9.23",
    ),
    "gradle_task": (
        "app:compileKotlin", "app:compileJava", "app:processResources", "app:classes", "app:jar", "app:inspectClassesForKotlinIC",
        "app:startScripts", "app:distTar", "app:distZip", "app:assemble", "app:checkKotlinGradlePluginConfigurationErrors",
    ),
    "go_mod": (
        "github.com/google/uuid", "github.com/pkg/errors", "golang.org/x/net", "golang.org/x/sys", "golang.org/x/text",
        "github.com/davecgh/go-spew", "github.com/pmezard/go-difflib", "gopkg.in/yaml.v3", "github.com/beorn7/perks",
        "github.com/cespare/xxhash/v2", "github.com/prometheus/common", "github.com/prometheus/procfs",
        "go.uber.org/multierr", "github.com/jackc/pgpassfile", "github.com/jackc/puddle/v2", "github.com/klauspost/compress",
        "google.golang.org/genproto/googleapis/rpc", "github.com/golang/protobuf", "github.com/spf13/pflag",
    ),
    "go_pkg": ("cmd/server", "internal/api", "internal/store", "internal/config", "internal/metrics", "internal/worker", "pkg/client"),
    "ts_chunk": ("main", "vendors", "runtime", "checkout", "cart", "account", "search", "polyfills"),
    "ts_file": (
        "cart/CartSummary.tsx", "cart/useCart.ts", "checkout/PaymentForm.tsx", "checkout/api.ts", "catalog/ProductCard.tsx",
        "search/SearchBox.tsx", "account/Orders.tsx", "i18n/format.ts", "shipping/estimate.ts", "promo/applyCode.ts",
    ),
    "py_module": ("features/velocity", "features/device", "model/loader", "rules/engine", "api/routes", "scoring/pipeline", "settings"),
    "java_file": (
        "src/main/java/com/acme/payments/ledger/LedgerClient.java",
        "src/main/java/com/acme/payments/refund/RefundMapper.java",
        "src/main/java/com/acme/payments/webhook/WebhookSigner.java",
    ),
    "kt_file": ("app/src/main/kotlin/com/acme/bff/feed/FeedMapper.kt", "app/src/main/kotlin/com/acme/bff/session/Tokens.kt"),
    "deb_pkg": ("ca-certificates", "curl", "libcurl4", "libssl3", "openssl", "tzdata", "libnghttp2-14", "libbrotli1", "libpsl5"),
    "node": (
        "gke-ci-pool-5f3a-x7kq", "gke-ci-pool-5f3a-m2vd", "gke-ci-pool-9c1e-bq4w", "ip-10-20-3-117.ec2.internal",
        "ip-10-20-7-42.ec2.internal", "ip-10-20-5-201.ec2.internal",
    ),
    "repo_any": ("payments-api", "ledger-service", "fraud-scorer", "payments-webhooks", "storefront", "mobile-bff", "search-api", "infra-tools"),
    "service_any": ("payments-api", "ledger-service", "storefront", "search-api", "mobile-bff"),
    "short_pkg": ("p.l.LedgerApplication", "p.s.SettlementJob", "p.r.RefundService", "p.w.WebhookConfig"),
}  # fmt: skip
