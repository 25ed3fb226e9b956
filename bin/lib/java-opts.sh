# Sourced by bin/codebook and bin/jmh after codebook_find_java (bin/lib/find-java.sh): the JVM
# options a Codebook JVM starts with, chosen so that the JDK prints none of its start-up
# WARNING lines that a user cannot act on.
#
# codebook_java_opts NEEDS_VECTOR_API: sets the array CODEBOOK_JVM_OPTS for $JAVA_HOME's java.
#   NEEDS_VECTOR_API=1 resolves jdk.incubator.vector (the Panama kernels), 0 does not.

codebook_java_opts() {
  local vector=${1:-1}
  local major=${CODEBOOK_JAVA_MAJOR:-}
  [ -n "$major" ] || major=$(codebook_java_major "$JAVA_HOME/bin/java")
  CODEBOOK_JVM_OPTS=(--enable-native-access=ALL-UNNAMED)
  if [ "$vector" = 1 ]; then
    # The Vector API is an incubator module. Whenever one is resolved into the boot layer the
    # JDK prints "WARNING: Using incubator modules: jdk.incubator.vector" unconditionally
    # (jdk.internal.module.ModuleBootstrap.checkIncubatingStatus -> warn -> System.err): no
    # option or property turns it off, and jlink keeps the module's WARN_INCUBATING flag. So
    # only the commands that run the kernels resolve it; the others run without it.
    CODEBOOK_JVM_OPTS+=(--add-modules jdk.incubator.vector)
  else
    # No Vector API in this JVM: the scalar kernels, without the "using scalar kernels" notice.
    CODEBOOK_JVM_OPTS+=(-Dcodebook.kernels=scalar)
  fi
  if [ "${major:-0}" -ge 24 ]; then
    # protobuf-java reads messages through sun.misc.Unsafe; from JDK 24 the first use prints
    # four WARNING lines (JEP 471) unless this flag, which JDK 24+ only knows, allows it.
    CODEBOOK_JVM_OPTS+=(--sun-misc-unsafe-memory-access=allow)
    if [ "$major" -ge 25 ]; then
      # Netty reads the flag too: from JDK 25 it keeps off sun.misc.Unsafe unless the access is
      # allowed. Keep it off as it was before the flag, so allowing protobuf changes nothing
      # in how the server and the load generator run.
      CODEBOOK_JVM_OPTS+=(-Dio.netty.noUnsafe=true)
    fi
  fi
}

# Whether a `codebook` command line runs the vector kernels, so wants the Vector API: serve,
# bench, build (offline) and info (which reports them), unless asked for help or the version.
# The client commands only talk to a server. The subcommand is the first word that is not an
# option: the top-level options (--debug, -h, --help, -V, --version) take no value.
codebook_needs_vector_api() {
  local a command=""
  for a in "$@"; do
    case "$a" in
      -h|--help|-V|--version) return 1;;
      -*) ;;
      *) [ -n "$command" ] || command=$a;;
    esac
  done
  case "$command" in
    serve|bench|build|info) return 0;;
    *) return 1;;
  esac
}
