#!/usr/bin/env bash
# usage (from the root of a worktree with constants-check.patch applied and the benchmarks jar
# built): run-one.sh FILE.hdf5 EXPERIMENT SPEC [NPROBES]   JSON lines on stdout
# -Dselectivities=0.5,0.1 and -Dcontiguous=true through JAVA_OPTS for the filter experiment.
. bin/lib/find-java.sh; codebook_find_java
exec "$JAVA_HOME/bin/java" --add-modules jdk.incubator.vector -Xmx8g ${JAVA_OPTS:-} \
  -cp benchmarks/target/benchmarks.jar dev.codebook.bench.ConstantsCheck "$@"
