# Sourced by bin/codebook, bin/mvn and bin/jmh: sets JAVA_HOME to a JDK >= 21, and
# CODEBOOK_JAVA_MAJOR to its feature version (21, 25, ...).
# Order: $JAVA_HOME if it is new enough, then the newest JDK under /usr/lib/jvm (or
# $CODEBOOK_JVM_DIR), then `java` on PATH. Fails with a clear message when there is none.

codebook_java_major() { # $1 = path to a java binary; prints its feature version or nothing
  "$1" -XshowSettings:properties -version 2>&1 | sed -n 's/^ *java\.specification\.version = \([0-9]*\).*/\1/p' | head -1
}

codebook_find_java() {
  local min=21 candidate major best="" best_major=0
  if [ -n "${JAVA_HOME:-}" ] && [ -x "$JAVA_HOME/bin/java" ]; then
    major=$(codebook_java_major "$JAVA_HOME/bin/java")
    if [ -n "$major" ] && [ "$major" -ge "$min" ] && [ -x "$JAVA_HOME/bin/javac" ]; then
      CODEBOOK_JAVA_MAJOR=$major
      return 0
    fi
  fi
  for candidate in "${CODEBOOK_JVM_DIR:-/usr/lib/jvm}"/*/ ; do
    [ -x "${candidate}bin/java" ] && [ -x "${candidate}bin/javac" ] || continue
    major=$(codebook_java_major "${candidate}bin/java")
    if [ -n "$major" ] && [ "$major" -ge "$min" ] && [ "$major" -gt "$best_major" ]; then
      best="${candidate%/}"; best_major=$major
    fi
  done
  if [ -z "$best" ] && command -v javac >/dev/null 2>&1; then
    candidate=$(dirname "$(dirname "$(readlink -f "$(command -v javac)")")")
    major=$(codebook_java_major "$candidate/bin/java")
    if [ -n "$major" ] && [ "$major" -ge "$min" ]; then best=$candidate; best_major=$major; fi
  fi
  if [ -z "$best" ]; then
    echo "codebook: no JDK $min or newer found (JAVA_HOME=${JAVA_HOME:-unset}, searched ${CODEBOOK_JVM_DIR:-/usr/lib/jvm} and PATH)." >&2
    echo "codebook: install one, e.g. 'apt-get install openjdk-21-jdk-headless', or set JAVA_HOME." >&2
    return 1
  fi
  export JAVA_HOME="$best"
  CODEBOOK_JAVA_MAJOR=$best_major
}
