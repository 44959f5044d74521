"""Build toolchains as data: the image a Run step uses, the package registry it talks to, and what it fetches.

A toolchain is what a failure family is specific to (an npm outage hits `npm` steps, a Maven Central outage
hits `maven` and `gradle`); its packages fill the placeholders of both the success and the failure logs, so the
package an outage log names is one the same build downloads when it succeeds.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

__all__ = ["TOOLCHAINS", "Toolchain", "package_params"]


@dataclass(frozen=True, slots=True)
class Toolchain:
    """How one ecosystem builds, and where it downloads from."""

    id: str
    language: str
    image: str
    registry_host: str
    registry_url: str
    registry_ips: tuple[str, ...]
    install_cmd: str
    compile_cmd: str
    test_cmd: str
    report_paths: str
    packages: tuple[str, ...]  # "name@version"; Maven coordinates as "group:artifact@version"
    test_style: str  # junit5 | pytest | gotest | jest


TOOLCHAINS: dict[str, Toolchain] = {
    tc.id: tc
    for tc in (
        Toolchain(
            id="npm",
            language="typescript",
            image="node:20.12-bullseye",
            registry_host="registry.npmjs.org",
            registry_url="https://registry.npmjs.org",
            registry_ips=("104.16.0.35", "104.16.16.35", "104.16.24.35", "104.16.30.34"),
            install_cmd="npm ci --no-audit --prefer-offline",
            compile_cmd="npm run build",
            test_cmd="npx jest --ci --reporters=default --reporters=jest-junit",
            report_paths="reports/junit.xml",
            packages=(
                "react@18.2.0",
                "react-dom@18.2.0",
                "typescript@5.4.5",
                "webpack@5.91.0",
                "@babel/core@7.24.5",
                "express@4.19.2",
                "lodash@4.17.21",
                "axios@1.6.8",
                "jest@29.7.0",
                "ts-jest@29.1.2",
                "@types/node@20.12.7",
                "eslint@8.57.0",
                "prettier@3.2.5",
                "zod@3.23.4",
                "date-fns@3.6.0",
                "@tanstack/react-query@5.32.0",
                "next@14.2.3",
                "pino@9.0.0",
                "uuid@9.0.1",
                "dotenv@16.4.5",
                "@testing-library/react@15.0.5",
                "msw@2.2.14",
                "stripe@15.4.0",
                "rxjs@7.8.1",
                "semver@7.6.0",
            ),
            test_style="jest",
        ),
        Toolchain(
            id="pip",
            language="python",
            image="python:3.11-slim-bookworm",
            registry_host="files.pythonhosted.org",
            registry_url="https://pypi.org/simple",
            registry_ips=("151.101.0.223", "151.101.64.223", "151.101.128.223", "151.101.192.223"),
            install_cmd="pip install --no-cache-dir -r requirements.txt -r requirements-dev.txt",
            compile_cmd="ruff check src tests && mypy src",
            test_cmd="pytest -q --junitxml=reports/junit.xml",
            report_paths="reports/junit.xml",
            packages=(
                "requests@2.31.0",
                "numpy@1.26.4",
                "pandas@2.2.2",
                "scikit-learn@1.4.2",
                "pydantic@2.7.1",
                "fastapi@0.111.0",
                "uvicorn@0.29.0",
                "sqlalchemy@2.0.30",
                "psycopg2-binary@2.9.9",
                "redis@5.0.4",
                "boto3@1.34.98",
                "botocore@1.34.98",
                "pytest@8.2.0",
                "mypy@1.10.0",
                "ruff@0.4.3",
                "httpx@0.27.0",
                "structlog@24.1.0",
                "scipy@1.13.0",
                "lightgbm@4.3.0",
                "orjson@3.10.3",
            ),
            test_style="pytest",
        ),
        Toolchain(
            id="maven",
            language="java",
            image="maven:3.9.6-eclipse-temurin-17",
            registry_host="repo.maven.apache.org",
            registry_url="https://repo.maven.apache.org/maven2",
            registry_ips=("199.232.192.209", "199.232.196.209", "151.101.40.209"),
            install_cmd="mvn -B -ntp dependency:go-offline",
            compile_cmd="mvn -B -ntp -DskipTests compile",
            test_cmd="mvn -B -ntp test",
            report_paths="target/surefire-reports/*.xml",
            packages=(
                "org.springframework.boot:spring-boot-starter-web@3.2.5",
                "org.springframework.boot:spring-boot-starter-data-jpa@3.2.5",
                "org.postgresql:postgresql@42.7.3",
                "com.fasterxml.jackson.core:jackson-databind@2.17.0",
                "org.flywaydb:flyway-core@10.12.0",
                "io.micrometer:micrometer-registry-prometheus@1.12.5",
                "org.junit.jupiter:junit-jupiter@5.10.2",
                "org.mockito:mockito-core@5.11.0",
                "org.testcontainers:postgresql@1.19.7",
                "org.apache.kafka:kafka-clients@3.7.0",
                "com.google.guava:guava@33.1.0-jre",
                "org.slf4j:slf4j-api@2.0.13",
                "io.github.resilience4j:resilience4j-spring-boot3@2.2.0",
                "org.assertj:assertj-core@3.25.3",
            ),
            test_style="junit5",
        ),
        Toolchain(
            id="gradle",
            language="kotlin",
            image="gradle:8.7-jdk17",
            registry_host="repo.maven.apache.org",
            registry_url="https://repo.maven.apache.org/maven2",
            registry_ips=("199.232.192.209", "199.232.196.209", "151.101.40.209"),
            install_cmd="./gradlew --no-daemon dependencies",
            compile_cmd="./gradlew --no-daemon assemble",
            test_cmd="./gradlew --no-daemon test",
            report_paths="app/build/test-results/test/*.xml",
            packages=(
                "com.squareup.okhttp3:okhttp@4.12.0",
                "io.ktor:ktor-server-core-jvm@2.3.10",
                "io.ktor:ktor-server-netty-jvm@2.3.10",
                "org.jetbrains.kotlinx:kotlinx-coroutines-core@1.8.0",
                "org.jetbrains.kotlinx:kotlinx-serialization-json@1.6.3",
                "io.insert-koin:koin-core@3.5.6",
                "ch.qos.logback:logback-classic@1.5.6",
                "io.mockk:mockk@1.13.10",
                "org.junit.jupiter:junit-jupiter-engine@5.10.2",
                "com.google.protobuf:protobuf-kotlin@3.25.3",
            ),
            test_style="junit5",
        ),
        Toolchain(
            id="go",
            language="go",
            image="golang:1.22.3-bookworm",
            registry_host="proxy.golang.org",
            registry_url="https://proxy.golang.org",
            registry_ips=("142.250.72.17", "142.250.190.49", "172.217.4.81"),
            install_cmd="go mod download -x",
            compile_cmd="go build -trimpath ./...",
            test_cmd="gotestsum --junitfile reports/junit.xml -- -race ./...",
            report_paths="reports/junit.xml",
            packages=(
                "github.com/jackc/pgx/v5@v5.5.5",
                "github.com/go-chi/chi/v5@v5.0.12",
                "github.com/prometheus/client_golang@v1.19.0",
                "go.uber.org/zap@v1.27.0",
                "github.com/stretchr/testify@v1.9.0",
                "google.golang.org/grpc@v1.63.2",
                "google.golang.org/protobuf@v1.34.0",
                "github.com/spf13/cobra@v1.8.0",
                "k8s.io/client-go@v0.30.0",
                "github.com/aws/aws-sdk-go-v2@v1.26.1",
                "golang.org/x/sync@v0.7.0",
                "github.com/segmentio/kafka-go@v0.4.47",
            ),
            test_style="gotest",
        ),
        Toolchain(
            id="docker",
            language="docker",
            image="gcr.io/kaniko-project/executor:v1.22.0",
            registry_host="registry-1.docker.io",
            registry_url="https://registry-1.docker.io/v2",
            registry_ips=("54.236.113.205", "44.205.64.79", "3.219.239.5", "54.198.86.24"),
            install_cmd="",
            compile_cmd="/kaniko/executor --dockerfile=Dockerfile --context=dir:///harness",
            test_cmd="",
            report_paths="",
            packages=(
                "node@20.12-bullseye-slim",
                "python@3.11-slim-bookworm",
                "eclipse-temurin@17-jre-jammy",
                "golang@1.22.3-bookworm",
                "debian@bookworm-slim",
                "nginx@1.25-alpine",
                "alpine@3.19",
                "gcr.io/distroless/static-debian12@nonroot",
            ),
            test_style="",
        ),
    )
}


def package_params(toolchain: Toolchain, rng: random.Random) -> dict[str, str]:
    """Placeholders naming one package of `toolchain` (`package`, `version`, Maven `group_path`, ...)."""
    spec = rng.choice(toolchain.packages)
    name, _, version = spec.rpartition("@")
    params = {
        "package": name,
        "version": version,
        "ip": rng.choice(toolchain.registry_ips),
        "registry_host": toolchain.registry_host,
        "registry_url": toolchain.registry_url,
    }
    if ":" in name and toolchain.id in ("maven", "gradle"):
        group, artifact = name.split(":", 1)
        params.update(group=group, artifact_id=artifact, group_path=group.replace(".", "/"))
    if toolchain.id == "pip":
        digest = f"{rng.getrandbits(64):016x}{rng.getrandbits(64):016x}"
        params["wheel_path"] = (
            f"{digest[:2]}/{digest[2:4]}/{digest[4:]}/{name.replace('-', '_')}-{version}-py3-none-any.whl"
        )
    return params
