"""Pick a Java runtime Neo4j 5.26 supports, and find Maven.

Neo4j 5.26 runs on Java 17 or 21 only. Machines may carry a newer default `java`
(a Temurin 25, say), so the runtime is always chosen explicitly and handed to
Neo4j and Maven through JAVA_HOME.
"""

from __future__ import annotations

import re
import shutil
from collections.abc import Mapping
from pathlib import Path

from c360.errors import ServerUnavailableError
from c360.stack._system import Report, apt_install, quiet, run

SUPPORTED_JAVA = (21, 17)  # preference order
JVM_ROOT = Path("/usr/lib/jvm")
JRE_PACKAGE = "openjdk-17-jre-headless"


def java_major(java_home: Path) -> int | None:
    """The feature version of the runtime at `java_home`, or None if it is not one."""
    if not (java_home / "bin" / "java").is_file():
        return None
    release = java_home / "release"
    text = release.read_text(errors="replace") if release.is_file() else ""
    match = re.search(r'^JAVA_VERSION="(\d+)(?:\.(\d+))?', text, re.MULTILINE)
    if match is None:
        # No release file (some JRE layouts): ask the runtime itself.
        result = run([java_home / "bin" / "java", "-version"], timeout=30)
        match = re.search(r'version "(\d+)(?:\.(\d+))?', result.stderr)
        if match is None:
            return None
    major = int(match.group(1))
    # Java 8 and older report "1.8".
    return int(match.group(2)) if major == 1 and match.group(2) else major


def find_java_home(env: Mapping[str, str]) -> Path | None:
    """JAVA_HOME when it is a supported runtime, else the best one under /usr/lib/jvm."""
    explicit = env.get("JAVA_HOME")
    if explicit and java_major(Path(explicit)) in SUPPORTED_JAVA:
        return Path(explicit)
    found: dict[int, Path] = {}
    if JVM_ROOT.is_dir():
        # Symlinked aliases (java-1.17.0-openjdk-amd64) resolve to the same runtime.
        for candidate in sorted(JVM_ROOT.iterdir()):
            major = java_major(candidate)
            if major in SUPPORTED_JAVA and major not in found:
                found[major] = candidate.resolve()
    for major in SUPPORTED_JAVA:
        if major in found:
            return found[major]
    return None


def ensure_java_home(env: Mapping[str, str], report: Report = quiet) -> Path:
    java_home = find_java_home(env)
    if java_home is None:
        apt_install(
            [JRE_PACKAGE],
            f"Neo4j 5.26 needs Java 17 or 21 and none was found (JAVA_HOME or {JVM_ROOT}/*)",
            report,
        )
        java_home = find_java_home(env)
    if java_home is None:
        raise ServerUnavailableError(
            f"installed {JRE_PACKAGE} but found no Java 17 or 21 under {JVM_ROOT}; "
            "set JAVA_HOME to a Java 17 or 21 runtime"
        )
    return java_home


def ensure_maven(report: Report = quiet) -> Path:
    """The `mvn` executable, installed from Debian's `maven` package when missing."""
    mvn = shutil.which("mvn")
    if mvn is None:
        apt_install(["maven"], "Neo4j is fetched with Maven and `mvn` is not installed", report)
        mvn = shutil.which("mvn")
    if mvn is None:
        raise ServerUnavailableError("installed maven but `mvn` is still not on PATH")
    return Path(mvn)
