package dev.codebook.cli;

import dev.codebook.index.simd.KernelSupport;
import dev.codebook.index.simd.VectorKernels;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;

/** {@code codebook info}: what this installation runs on. */
@Command(name = "info", mixinStandardHelpOptions = true,
    description = "Print the JVM, the vector kernels and the cores in use.")
public final class InfoCommand implements Callable<Integer> {

  @Override
  public Integer call() {
    KernelSupport k = VectorKernels.support();
    System.out.printf("java       %s (%s)%n", Runtime.version(), System.getProperty("java.home"));
    System.out.printf("kernels    %s, %d-bit vectors%n", k.name(), k.vectorBitSize());
    System.out.printf("cores      %d%n", Runtime.getRuntime().availableProcessors());
    System.out.printf("max heap   %d MiB%n", Runtime.getRuntime().maxMemory() >> 20);
    return 0;
  }
}
