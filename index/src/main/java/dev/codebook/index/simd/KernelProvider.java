package dev.codebook.index.simd;

import java.util.Locale;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Chooses the {@link KernelSupport} once per JVM from the system property {@value #PROPERTY}:
 *
 * <ul>
 *   <li>{@code auto} (default): the Vector API kernels when {@code jdk.incubator.vector} is
 *       present and usable, else the scalar ones with one logged warning;
 *   <li>{@code panama}: the Vector API kernels, failing loudly when they cannot load;
 *   <li>{@code scalar}: the reference kernels.
 * </ul>
 */
public final class KernelProvider {

  public static final String PROPERTY = "codebook.kernels";
  static final String PANAMA_CLASS = "dev.codebook.index.simd.panama.PanamaKernelSupport";

  private static final Logger LOG = LoggerFactory.getLogger(KernelProvider.class);

  private KernelProvider() {}

  private static final class Holder {
    static final KernelSupport INSTANCE = select(System.getProperty(PROPERTY, "auto"));
  }

  /** The kernels this JVM uses. */
  public static KernelSupport get() {
    return Holder.INSTANCE;
  }

  /** The scalar reference kernels. */
  public static KernelSupport scalar() {
    return ScalarKernelSupport.INSTANCE;
  }

  /**
   * The Vector API kernels.
   *
   * @throws IllegalStateException with the reason and the flag to add, when they cannot load
   */
  public static KernelSupport panama() {
    if (ModuleLayer.boot().findModule("jdk.incubator.vector").isEmpty()) {
      throw new IllegalStateException(
          "Vector API kernels requested but module jdk.incubator.vector is not loaded: "
              + "start the JVM with --add-modules jdk.incubator.vector");
    }
    try {
      return (KernelSupport) Class.forName(PANAMA_CLASS).getConstructor().newInstance();
    } catch (ReflectiveOperationException | LinkageError | RuntimeException e) {
      Throwable cause = e.getCause() != null ? e.getCause() : e;
      throw new IllegalStateException("Vector API kernels cannot load: " + cause, cause);
    }
  }

  static KernelSupport select(String choice) {
    switch (choice.trim().toLowerCase(Locale.ROOT)) {
      case "scalar":
        return scalar();
      case "panama":
        return panama();
      case "auto":
      case "":
        try {
          return panama();
        } catch (IllegalStateException e) {
          LOG.warn("Using scalar kernels, expect slower searches: {}", e.getMessage());
          return scalar();
        }
      default:
        throw new IllegalArgumentException(
            "-D" + PROPERTY + "=" + choice + " is not one of auto, scalar, panama");
    }
  }
}
