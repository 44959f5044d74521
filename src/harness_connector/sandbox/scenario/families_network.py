"""Failure families of the network: package-registry outages per ecosystem, DNS and connection failures, rate limits.

Run and plugin steps fail in Harness with the command's exit status (`RUN_STEP_MESSAGE`, APPLICATION_ERROR): the
cause is only in the log, which is why these families differ in their lines, not in their failure types.
"""

from __future__ import annotations

from harness_connector.sandbox.scenario.failure import RUN_STEP_MESSAGE, FailureFamily

__all__ = ["NETWORK_FAMILIES"]

_APP = ("APPLICATION_ERROR",)
_MVN_ERR = "E|[<r>ERROR</>]"
_NPM_ERR = "E|npm <r>ERR!</>"

NETWORK_FAMILIES: tuple[FailureFamily, ...] = (
    FailureFamily(
        id="npm_registry_outage",
        category="dependency_registry_outage",
        transient=True,
        failure_types=_APP,
        message=RUN_STEP_MESSAGE,
        roles=("install",),
        toolchains=("npm",),
        mode="window",
        rate=2,
        window_minutes=(35, 80),
        host="registry.npmjs.org",
        lines={
            "npm": (
                "npm <c>http</> fetch GET https://registry.npmjs.org/{package} attempt 1 failed with ETIMEDOUT",
                "npm <c>http</> fetch GET https://registry.npmjs.org/{package} attempt 2 failed with ETIMEDOUT",
                f"{_NPM_ERR} code ETIMEDOUT",
                f"{_NPM_ERR} syscall connect",
                f"{_NPM_ERR} errno ETIMEDOUT",
                f"{_NPM_ERR} network request to "
                f"https://registry.npmjs.org/{{package}}/-/{{package_base}}-{{version}}.tgz "
                "failed, reason: connect ETIMEDOUT {ip}:443",
                f"{_NPM_ERR} network This is a problem related to network connectivity.",
                f"{_NPM_ERR} network In most cases you are behind a proxy or have bad network settings.",
                f"{_NPM_ERR} network",
                f"{_NPM_ERR} network If you are behind a proxy, please make sure that the",
                f"{_NPM_ERR} network 'proxy' config is set properly.  See: 'npm help config'",
                "",
                f"{_NPM_ERR} A complete log of this run can be found in: /root/.npm/_logs/{{log_stamp}}-debug-0.log",
                "---",
                "npm <c>http</> fetch GET 503 https://registry.npmjs.org/{package} {ms}ms (cache revalidated)",
                f"{_NPM_ERR} code E503",
                f"{_NPM_ERR} 503 Service Unavailable - GET https://registry.npmjs.org/{{package}}",
                "",
                f"{_NPM_ERR} A complete log of this run can be found in: /root/.npm/_logs/{{log_stamp}}-debug-0.log",
            )
        },
    ),
    FailureFamily(
        id="pypi_outage",
        category="dependency_registry_outage",
        transient=True,
        failure_types=_APP,
        message=RUN_STEP_MESSAGE,
        roles=("install",),
        toolchains=("pip",),
        mode="window",
        rate=2,
        window_minutes=(30, 75),
        host="files.pythonhosted.org",
        lines={
            "pip": (
                "Collecting {package}=={version} (from -r requirements.txt (line {line}))",
                *(
                    f"W|WARNING: Retrying (Retry(total={n}, connect=None, read=None, redirect=None, status=None)) "
                    f"after "
                    "connection broken by 'ReadTimeoutError(\"HTTPSConnectionPool(host='files.pythonhosted.org', "
                    "port=443): Read timed out. (read timeout=15)\")': /packages/{wheel_path}"
                    for n in (4, 3, 2, 1, 0)
                ),
                "E|ERROR: Could not install packages due to an OSError: "
                "HTTPSConnectionPool(host='files.pythonhosted.org', "
                "port=443): Max retries exceeded with url: /packages/{wheel_path} (Caused by ReadTimeoutError("
                "\"HTTPSConnectionPool(host='files.pythonhosted.org', port=443): Read timed out. (read timeout=15)\"))",
                "---",
                "Collecting {package}=={version} (from -r requirements.txt (line {line}))",
                "E|ERROR: HTTP error 503 while getting https://files.pythonhosted.org/packages/{wheel_path} "
                "(from https://pypi.org/simple/{package}/) (requires-python:>=3.8)",
                "E|ERROR: Could not install requirement {package}=={version} from "
                "https://files.pythonhosted.org/packages/"
                "{wheel_path} because of HTTP error 503 Server Error: Service Unavailable for url: "
                "https://files.pythonhosted.org/packages/{wheel_path} for URL "
                "https://files.pythonhosted.org/packages/{wheel_path}",
            )
        },
    ),
    FailureFamily(
        id="maven_central_outage",
        category="dependency_registry_outage",
        transient=True,
        failure_types=_APP,
        message=RUN_STEP_MESSAGE,
        roles=("install",),
        toolchains=("maven", "gradle"),
        mode="window",
        rate=2,
        window_minutes=(40, 100),
        host="repo.maven.apache.org",
        lines={
            "maven": (
                "[<b>INFO</>] Downloading from central: "
                "https://repo.maven.apache.org/maven2/{group_path}/{artifact_id}/"
                "{version}/{artifact_id}-{version}.pom",
                "W|[<y>WARNING</>] Failed to retrieve plugin descriptor for "
                "org.apache.maven.plugins:maven-surefire-plugin:"
                "3.2.5: Plugin org.apache.maven.plugins:maven-surefire-plugin:3.2.5 or one of its dependencies could "
                "not "
                "be resolved: status code: 502, reason phrase: Bad Gateway (502)",
                "[<b>INFO</>] <r>BUILD FAILURE</>",
                f"{_MVN_ERR} Failed to execute goal on project {{service}}: Could not resolve dependencies for project "
                "com.acme:{service}:jar:{app_version}: Failed to collect dependencies at {group}:{artifact_id}:jar:"
                "{version}: Failed to read artifact descriptor for {group}:{artifact_id}:jar:{version}: The following "
                "artifacts could not be resolved: {group}:{artifact_id}:pom:{version} (absent): Could not transfer "
                "artifact {group}:{artifact_id}:pom:{version} from/to central (https://repo.maven.apache.org/maven2): "
                "status code: 502, reason phrase: Bad Gateway (502) -> [Help 1]",
                f"{_MVN_ERR} ",
                f"{_MVN_ERR} To see the full stack trace of the errors, re-run Maven with the -e switch.",
                f"{_MVN_ERR} Re-run Maven using the -X switch to enable full debug logging.",
                f"{_MVN_ERR} ",
                f"{_MVN_ERR} For more information about the errors and possible solutions, please read the following "
                f"articles:",
                f"{_MVN_ERR} [Help 1] http://cwiki.apache.org/confluence/display/MAVEN/DependencyResolutionException",
            ),
            "gradle": (
                "E|FAILURE: Build failed with an exception.",
                "E|",
                "E|* What went wrong:",
                "E|Execution failed for task ':app:compileKotlin'.",
                "E|> Could not resolve all files for configuration ':app:compileClasspath'.",
                "E|   > Could not resolve {group}:{artifact_id}:{version}.",
                "E|     Required by:",
                "E|         project :app",
                "E|      > Could not resolve {group}:{artifact_id}:{version}.",
                "E|         > Could not get resource 'https://repo.maven.apache.org/maven2/{group_path}/{artifact_id}/"
                "{version}/{artifact_id}-{version}.pom'.",
                "E|            > Could not GET "
                "'https://repo.maven.apache.org/maven2/{group_path}/{artifact_id}/{version}/"
                "{artifact_id}-{version}.pom'. Received status code 502 from server: Bad Gateway",
                "E|",
                "E|* Try:",
                "E|> Run with --stacktrace option to get the stack trace.",
                "E|BUILD FAILED in {secs}s",
            ),
        },
    ),
    FailureFamily(
        id="go_proxy_outage",
        category="dependency_registry_outage",
        transient=True,
        failure_types=_APP,
        message=RUN_STEP_MESSAGE,
        roles=("install",),
        toolchains=("go",),
        mode="window",
        rate=1,
        window_minutes=(30, 70),
        host="proxy.golang.org",
        lines={
            "go": (
                "# get https://proxy.golang.org/{package}/@v/{version}.zip",
                "# get https://proxy.golang.org/{package}/@v/{version}.zip: 502 Bad Gateway ({secs}s)",
                "E|go: {package}@{version}: reading https://proxy.golang.org/{package}/@v/{version}.zip: 502 Bad "
                "Gateway",
                "---",
                "# get https://proxy.golang.org/{package}/@v/{version}.mod",
                'E|go: {package}@{version}: Get "https://proxy.golang.org/{package}/@v/{version}.mod": dial tcp '
                "{ip}:443: i/o timeout",
            )
        },
    ),
    FailureFamily(
        id="docker_hub_outage",
        category="dependency_registry_outage",
        transient=True,
        failure_types=_APP,
        message=RUN_STEP_MESSAGE,
        roles=("docker",),
        toolchains=("docker",),
        fail_at=(0.0, 0.08),  # pulling the base image is the build's first step
        mode="window",
        rate=1,
        window_minutes=(25, 60),
        host="registry-1.docker.io",
        lines={
            "docker": (
                "W|<y>WARN</>[0030] Error while retrieving image from cache: {base_image} getting file info: stat "
                "/cache/sha256:{sha256}: no such file or directory",
                "E|error building image: unable to complete operation after 0 attempts, last error: GET "
                "https://index.docker.io/v2/{repository}/manifests/{base_tag}: Get "
                '"https://registry-1.docker.io/v2/{repository}/manifests/{base_tag}": dial tcp {ip}:443: i/o timeout',
                "---",
                "E|error building image: GET https://registry-1.docker.io/v2/{repository}/manifests/{base_tag}: "
                "UNKNOWN: 503 Service Unavailable",
            )
        },
    ),
    FailureFamily(
        id="apt_mirror_outage",
        category="dependency_registry_outage",
        transient=True,
        failure_types=_APP,
        message=RUN_STEP_MESSAGE,
        roles=("docker",),
        toolchains=("docker",),
        mode="window",
        rate=1,
        window_minutes=(20, 50),
        exit_code=1,
        host="deb.debian.org",
        lines={
            "docker": (
                "<c>INFO</>[{k_secs}] RUN apt-get update && apt-get install -y --no-install-recommends ca-certificates "
                "curl",
                "Err:1 http://deb.debian.org/debian bookworm InRelease",
                "  Temporary failure resolving 'deb.debian.org'",
                "Err:2 http://deb.debian.org/debian-security bookworm-security InRelease",
                "  Temporary failure resolving 'deb.debian.org'",
                "W|W: Failed to fetch http://deb.debian.org/debian/dists/bookworm/InRelease  Temporary failure "
                "resolving "
                "'deb.debian.org'",
                "W|W: Some index files failed to download. They have been ignored, or old ones used instead.",
                "Reading package lists...",
                "E|E: Unable to locate package curl",
                "E|error building image: error building stage: failed to execute command: waiting for process to exit: "
                "exit status 100",
            )
        },
    ),
    FailureFamily(
        id="dns_failure",
        category="network",
        transient=True,
        failure_types=_APP,
        message=RUN_STEP_MESSAGE,
        roles=("clone", "install"),
        mode="random",
        rate=0.0015,
        exit_code=128,
        lines={
            "clone": ("E|fatal: unable to access '{clone_url}/': Could not resolve host: {git_host}",),
            "npm": (
                f"{_NPM_ERR} code EAI_AGAIN",
                f"{_NPM_ERR} syscall getaddrinfo",
                f"{_NPM_ERR} errno EAI_AGAIN",
                f"{_NPM_ERR} request to https://registry.npmjs.org/{{package}} failed, reason: getaddrinfo EAI_AGAIN "
                "registry.npmjs.org",
            ),
            "pip": (
                "W|WARNING: Retrying (Retry(total=4, connect=None, read=None, redirect=None, status=None)) after "
                "connection "
                "broken by 'NewConnectionError('<pip._vendor.urllib3.connection.HTTPSConnection object at "
                "0x7f3a2c1d5e50>: "
                "Failed to establish a new connection: [Errno -3] Temporary failure in name resolution')': "
                "/simple/{package}/",
                "E|ERROR: Could not find a version that satisfies the requirement {package}=={version} (from "
                "versions: none)",
                "E|ERROR: No matching distribution found for {package}=={version}",
            ),
            "go": (
                'E|go: {package}@{version}: Get "https://proxy.golang.org/{package}/@v/{version}.mod": '
                "dial tcp: lookup proxy.golang.org on 10.96.0.10:53: server misbehaving",
            ),
            "*": (
                "E|[<r>ERROR</>] Failed to execute goal on project {service}: Could not transfer artifact "
                "{group}:{artifact_id}:pom:{version} from/to central (https://repo.maven.apache.org/maven2): "
                "repo.maven.apache.org: Temporary failure in name resolution -> [Help 1]",
            ),
        },
    ),
    FailureFamily(
        id="connection_reset",
        category="network",
        transient=True,
        failure_types=_APP,
        message=RUN_STEP_MESSAGE,
        roles=("clone", "install"),
        mode="random",
        rate=0.002,
        exit_code=128,
        lines={
            "clone": (
                "remote: Enumerating objects: {n}, done.",
                "E|error: RPC failed; curl 56 OpenSSL SSL_read: Connection reset by peer, errno 104",
                "E|error: 5327 bytes of body are still expected",
                "E|fetch-pack: unexpected disconnect while reading sideband packet",
                "E|fatal: early EOF",
                "E|fatal: fetch-pack: invalid index-pack output",
            ),
            "npm": (
                f"{_NPM_ERR} code ECONNRESET",
                f"{_NPM_ERR} syscall read",
                f"{_NPM_ERR} errno ECONNRESET",
                f"{_NPM_ERR} network request to https://registry.npmjs.org/{{package}} failed, reason: read ECONNRESET",
            ),
            "go": ("E|go: {package}@{version}: read tcp {ip4}:{port}->{ip}:443: read: connection reset by peer",),
            "*": (
                "E|Connection reset by peer while downloading {package} {version} from {registry_host}",
                "E|java.net.SocketException: Connection reset",
                "E|\tat java.base/sun.nio.ch.NioSocketImpl.implRead(NioSocketImpl.java:328)",
                "E|\tat java.base/sun.security.ssl.SSLSocketInputRecord.read(SSLSocketInputRecord.java:489)",
            ),
        },
    ),
    FailureFamily(
        id="github_api_rate_limit",
        category="rate_limit",
        transient=True,
        failure_types=_APP,
        message=RUN_STEP_MESSAGE,
        roles=("script",),
        mode="window",
        rate=1,
        window_minutes=(40, 60),
        exit_code=22,
        host="api.github.com",
        lines={
            "*": (
                "+ curl -sSfL -H 'Authorization: token ****' https://api.github.com/repos/{gh_repo}/releases/latest",
                "E|curl: (22) The requested URL returned error: 403",
                'E|{{"message":"API rate limit exceeded for installation ID 41255230. If you reach out to GitHub '
                'Support for help, please include the request ID 0C4E:3A1B:{hex7}.","documentation_url":'
                '"https://docs.github.com/rest/overview/rate-limits-for-the-rest-api"}}',
                "E|x-ratelimit-limit: 5000",
                "E|x-ratelimit-remaining: 0",
                "E|x-ratelimit-reset: {reset_epoch}",
            )
        },
    ),
    FailureFamily(
        id="dockerhub_rate_limit",
        category="rate_limit",
        transient=True,
        failure_types=_APP,
        message=RUN_STEP_MESSAGE,
        roles=("docker",),
        toolchains=("docker",),
        fail_at=(0.0, 0.08),  # pulling the base image is the build's first step
        mode="window",
        rate=1,
        window_minutes=(45, 120),
        host="registry-1.docker.io",
        lines={
            "docker": (
                "E|error building image: GET https://index.docker.io/v2/{repository}/manifests/{base_tag}: "
                "TOOMANYREQUESTS: You have reached your pull rate limit. You may increase the limit by authenticating "
                "and upgrading: https://www.docker.com/increase-rate-limit",
            )
        },
    ),
)
